// public_key, client side: S1 in, C1 out, S2 in (protocol in public_key.hpp).
#include <asio/buffer.hpp>
#include <stdexcept>
#include <system_error>

#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/certificate_check.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/auth/openssh/known_hosts.hpp>
#include <authchain/auth/openssh/text_file.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/auth/public_key/detail/io.hpp>
#include <authchain/auth/public_key/detail/messages.hpp>

namespace authchain::client {

namespace {

constexpr std::string_view public_key_layer = "public_key";

struct ClientState {
    PublicKeyClientOptions options;
    openssh::PrivateKey identity;
    std::optional<openssh::Certificate> certificate;  // of identity, presented with options.user
};


openssh::KnownHosts read_known_hosts(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return {};
    return openssh::parse_known_hosts(openssh::read_trusted_file(path), path.string());
}

// What known_hosts says of `host`, decided before its signature is checked.
struct HostDecision {
    std::string name;   // the name looked up
    bool append = false;  // unknown under accept-new: append once the signature verified
};

// The name and port to look the server up under: the options', or what the
// connection dialled where they leave them unset.
struct HostName {
    std::string name;
    std::uint16_t port = 0;
};

HostName host_name_for(const PublicKeyClientOptions& o, const Stream& stream) {
    const auto& dialled = stream.dialled();
    HostName h{o.host_name, o.port};
    if (h.name.empty()) {
        if (!dialled)
            deny(DenyReason::internal_error,
                 "public_key: no host_name given and the connection does not say what it dialled "
                 "(connect with tcp_connect, or set host_name)");
        h.name = dialled->host;
    }
    if (h.port == 0 && dialled && dialled->host == h.name) h.port = dialled->port;
    return h;
}

// Decides whether `host` may be trusted, from known_hosts alone; throws
// AuthenticationError(denied) otherwise.
HostDecision check_host_key(const PublicKeyClientOptions& o, const HostName& h, const openssh::PublicKey& host) {
    openssh::KnownHosts known;
    try {
        known = read_known_hosts(o.known_hosts);
    } catch (const std::exception& e) {
        deny(DenyReason::denied, std::string("cannot use known_hosts: ") + e.what());
    }
    auto found = openssh::lookup_host_key(known, h.name, h.port, host);
    std::string key = host.type() + " " + host.fingerprint();
    switch (found.status) {
        case openssh::HostKeyStatus::known:
            return {found.name, false};
        case openssh::HostKeyStatus::revoked:
            deny(DenyReason::denied, "host key " + key + " for " + found.name + " is REVOKED (" +
                                         found.entry->source + ")");
        case openssh::HostKeyStatus::changed:
            deny(DenyReason::denied,
                 "WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for " + found.name +
                     "! Someone could be eavesdropping on you right now (man-in-the-middle attack). "
                     "The host sent " + key + "; " + found.entry->source + " lists " + found.entry->key.type() +
                     " " + found.entry->key.fingerprint() + ". Remove that line if the change is expected.");
        case openssh::HostKeyStatus::unknown:
            break;
    }
    if (o.strict)
        deny(DenyReason::denied, "host key " + key + " for " + found.name + " is not in " +
                                     o.known_hosts.string() + " (strict host key checking)");
    return {found.name, true};
}

// accept-new: records a new host key whose signature verified.
void append_host_key(const PublicKeyClientOptions& o, const HostName& h, const openssh::PublicKey& host,
                     const std::string& name) {
    try {
        openssh::append_atomically(o.known_hosts,
                                   openssh::known_hosts_line(h.name, h.port, host, o.hash_new_hosts));
    } catch (const std::exception& e) {
        deny(DenyReason::denied, "cannot add " + name + " to known_hosts: " + e.what());
    }
}

bool is_certificate_blob(ByteView blob) {
    try {
        openssh::WireReader in(blob);
        return openssh::is_certificate_type(in.text());
    } catch (const openssh::FormatError&) {
        return false;
    }
}

// S1 with a host certificate: trusted when known_hosts has a @cert-authority
// line for its CA matching the host, the certificate suits the host name and
// time, and neither its key nor its CA is @revoked. Returns the certified
// key, the one that signs S1; the CA signature is verified here, after the
// cheap checks. Without a matching CA line, the certified key is looked up
// as a plain host key (as OpenSSH falls back).
struct HostCertDecision {
    openssh::PublicKey key;
    std::optional<HostDecision> plain;  // set when decided as a plain key
    std::string name;
};

HostCertDecision check_host_certificate(const PublicKeyClientOptions& o, const HostName& h, ByteView blob) {
    std::optional<openssh::Certificate> parsed;
    try {
        parsed = openssh::Certificate::from_blob(blob);
    } catch (const openssh::FormatError& e) {
        deny(DenyReason::protocol_error, std::string("S1: unusable host certificate: ") + e.what());
    }
    const openssh::Certificate& cert = *parsed;
    openssh::KnownHosts known;
    try {
        known = read_known_hosts(o.known_hosts);
    } catch (const std::exception& e) {
        deny(DenyReason::denied, std::string("cannot use known_hosts: ") + e.what());
    }
    const std::string name = openssh::known_host_name(h.name, h.port);
    const std::string what = "host certificate \"" + cert.key_id().substr(0, 64) + "\" for " +
                             cert.key().fingerprint() + " signed by CA " + cert.signature_key().fingerprint();
    for (const auto* key : {&cert.key(), &cert.signature_key()})
        if (const auto* entry = openssh::revoked_entry(known, *key))
            deny(DenyReason::denied, what + ": " + (key == &cert.key() ? "the host key" : "the CA key") +
                                         " is REVOKED (" + entry->source + ")");
    const openssh::KnownHost* ca = openssh::find_host_authority(known, h.name, h.port, cert.signature_key());
    if (!ca) return {cert.key(), check_host_key(o, h, cert.key()), name};
    if (auto why = openssh::host_certificate_refusal(cert, h.name, openssh::certificate_now()))
        deny(DenyReason::denied, what + " (" + ca->source + "): " + *why);
    if (!cert.verify_signature()) deny(DenyReason::denied, what + ": the CA signature does not verify");
    return {cert.key(), std::nullopt, name};
}

asio::awaitable<Session> authenticate(std::shared_ptr<const ClientState> state, Session session) {
    require_side(session, ConnectionTrail::Side::client, "public_key");
    Bytes channel_id = require_channel_id(session.stream);
    const HostName host_name = host_name_for(state->options, session.stream);

    // S1: the host key and its proof over this channel.
    KeyProof s1 = decode_s1(co_await read_frame(session.stream, max_public_key_message, "S1"));
    // Cheap before expensive (DESIGN rule 9): known_hosts first, so a host
    // refused anyway costs no signature work.
    std::optional<openssh::PublicKey> host;
    HostDecision decision;
    if (is_certificate_blob(s1.key_blob)) {
        HostCertDecision by_cert = check_host_certificate(state->options, host_name, s1.key_blob);
        host = by_cert.key;
        decision = by_cert.plain ? *by_cert.plain : HostDecision{by_cert.name, false};
    } else {
        host = key_of(s1, "S1", "host");
        decision = check_host_key(state->options, host_name, *host);
    }
    if (!host->verify(host_signed_data(channel_id), s1.signature))
        deny(DenyReason::denied, "host key " + host->fingerprint() +
                                     ": signature does not verify for this channel (forged or relayed)");
    if (decision.append) append_host_key(state->options, host_name, *host, decision.name);
    const std::string& name = decision.name;

    // C1: our key (or certificate and claimed user) and its proof over this
    // channel and what the host presented.
    Bytes c1;
    if (state->certificate) {
        const Bytes& cert = state->certificate->blob();
        const std::string& user = state->options.user;
        c1 = encode_c1({cert, state->identity.sign(user_cert_signed_data(channel_id, s1.key_blob, user, cert)), user});
    } else {
        c1 = encode_c1({state->identity.public_key().blob(),
                        state->identity.sign(user_signed_data(channel_id, s1.key_blob)), {}});
    }
    co_await write_all(session.stream, asio::buffer(c1));

    // S2: the verdict.
    if (!decode_s2(co_await read_frame(session.stream, max_public_key_message, "S2")))
        refused_by_peer("the server refused our key " + state->identity.public_key().fingerprint());

    Credentials& c = session.credentials;
    c.prove(public_key_layer, &Credentials::host_name, name, "host_name");
    c.prove(public_key_layer, &Credentials::key_type, host->type(), "key_type");
    c.prove(public_key_layer, &Credentials::key_fingerprint, host->fingerprint(), "key_fingerprint");
    co_return session;
}

}  // namespace

Authenticator public_key(PublicKeyClientOptions options) {
    if (options.known_hosts.empty()) throw std::invalid_argument("public_key: known_hosts path is required");
    auto identity = openssh::load_private_key(options.identity, options.passphrase);
    options.passphrase = {};  // decrypted: the layer keeps no passphrase
    (void)read_known_hosts(options.known_hosts);  // fail now on a bad mode or unreadable file
    // OpenSSH's default: IDENTITY-cert.pub next to the identity, when it exists.
    if (options.certificate.empty()) {
        std::filesystem::path guess(options.identity.string() + "-cert.pub");
        std::error_code ec;
        if (std::filesystem::exists(guess, ec)) options.certificate = guess;
    }
    std::optional<openssh::Certificate> certificate;
    if (!options.certificate.empty()) {
        certificate = openssh::Certificate::from_line(openssh::read_trusted_file(options.certificate));
        if (!(certificate->key() == identity.public_key()))
            throw openssh::FormatError(options.certificate.string() + ": certifies another key than " +
                                       options.identity.string());
        if (certificate->certificate_type() != openssh::CertificateType::user)
            throw openssh::FormatError(options.certificate.string() + ": not a user certificate");
        if (options.user.empty())
            throw std::invalid_argument("public_key: user is required with a certificate (" +
                                        options.certificate.string() + ")");
        if (options.user.size() > max_claimed_user) throw std::invalid_argument("public_key: user too long");
    }
    auto state = std::make_shared<const ClientState>(
        ClientState{std::move(options), std::move(identity), std::move(certificate)});
    return [state](Session session) { return authenticate(state, std::move(session)); };
}

}  // namespace authchain::client
