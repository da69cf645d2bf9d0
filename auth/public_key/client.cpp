// public_key, client side: S1 in, C1 out, S2 in (protocol in public_key.hpp).
#include <asio/buffer.hpp>
#include <stdexcept>
#include <system_error>

#include "auth/openssh/known_hosts.hpp"
#include "auth/openssh/text_file.hpp"
#include "auth/public_key.hpp"
#include "auth/public_key/detail/io.hpp"
#include "auth/public_key/detail/messages.hpp"

namespace authchain::client {

namespace {

constexpr std::string_view layer = "public_key";

struct ClientState {
    PublicKeyClientOptions options;
    openssh::PrivateKey identity;
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

asio::awaitable<Session> authenticate(std::shared_ptr<const ClientState> state, Session session) {
    require_side(session, ConnectionTrail::Side::client, "public_key");
    Bytes channel_id = require_channel_id(session.stream);
    const HostName host_name = host_name_for(state->options, session.stream);

    // S1: the host key and its proof over this channel.
    KeyProof s1 = decode_s1(co_await read_public_key_message(session.stream, "S1"));
    const openssh::PublicKey host = key_of(s1, "S1", "host");
    // Cheap before expensive (DESIGN rule 9): known_hosts first, so a host
    // refused anyway costs no signature work.
    HostDecision decision = check_host_key(state->options, host_name, host);
    if (!host.verify(host_signed_data(channel_id), s1.signature))
        deny(DenyReason::denied, "host key " + host.fingerprint() +
                                     ": signature does not verify for this channel (forged or relayed)");
    if (decision.append) append_host_key(state->options, host_name, host, decision.name);
    const std::string& name = decision.name;

    // C1: our key and its proof over this channel and the host key.
    Bytes c1 = encode_c1({state->identity.public_key().blob(),
                          state->identity.sign(user_signed_data(channel_id, host.blob()))});
    co_await write_all(session.stream, asio::buffer(c1));

    // S2: the verdict.
    if (!decode_s2(co_await read_public_key_message(session.stream, "S2")))
        refused_by_peer("the server refused our key " + state->identity.public_key().fingerprint());

    Credentials& c = session.credentials;
    c.prove(layer, &Credentials::host_name, name, "host_name");
    c.prove(layer, &Credentials::key_type, host.type(), "key_type");
    c.prove(layer, &Credentials::key_fingerprint, host.fingerprint(), "key_fingerprint");
    co_return session;
}

}  // namespace

Authenticator public_key(PublicKeyClientOptions options) {
    if (options.known_hosts.empty()) throw std::invalid_argument("public_key: known_hosts path is required");
    auto identity = openssh::load_private_key(options.identity, options.passphrase);
    options.passphrase = {};  // decrypted: the layer keeps no passphrase
    (void)read_known_hosts(options.known_hosts);  // fail now on a bad mode or unreadable file
    auto state = std::make_shared<const ClientState>(ClientState{std::move(options), std::move(identity)});
    return [state](Session session) { return authenticate(state, std::move(session)); };
}

}  // namespace authchain::client
