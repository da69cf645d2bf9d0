// public_key, server side: S1 out, C1 in, S2 out (protocol in public_key.hpp).
#include <asio/buffer.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/certificate_check.hpp>
#include <authchain/auth/openssh/text_file.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/auth/public_key/detail/io.hpp>
#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

namespace authchain {

namespace {

constexpr std::string_view public_key_layer = "public_key";

// The host and port of "host:port" or "[host]:port" (permitopen's forms).
std::optional<std::pair<std::string_view, std::string_view>> split_host_port(std::string_view text) {
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        return std::pair{text.substr(1, close - 1), text.substr(close + 2)};
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return std::nullopt;
    return std::pair{text.substr(0, colon), text.substr(colon + 1)};
}

bool equal_nocase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

// permitopen="host:port" admits `backend` when the hosts are equal (no
// name resolution, case-insensitive) and the ports are equal or '*'.
bool permitopen_admits(std::string_view entry, std::string_view backend) {
    auto e = split_host_port(entry);
    auto b = split_host_port(backend);
    return e && b && equal_nocase(e->first, b->first) && (e->second == "*" || e->second == b->second);
}

// Why the key options of `entry` forbid what a gate does (forward one
// connection to its backend), or nullopt. Rules in auth/public_key.hpp.
std::optional<std::string> restrictions_refusal(const PublicKeyServerOptions& options,
                                                const openssh::AuthorizedKey& entry) {
    const KeyRestrictions& r = entry.restrictions;
    if (std::find(r.no.begin(), r.no.end(), "port-forwarding") != r.no.end())
        return std::string(r.restrict ? "\"restrict\" without \"port-forwarding\"" : "\"no-port-forwarding\"") +
               " forbids forwarding, and a gate forwards";
    if (r.command && !options.ignore_command)
        return "command=\"" + r.command->substr(0, 64) + "\": a gate cannot run a command "
               "(set ignore_command to accept such keys)";
    if (!r.permitopen.empty()) {
        if (!options.backend) return std::string("permitopen= given, but the layer was not told its backend");
        bool admitted = std::any_of(r.permitopen.begin(), r.permitopen.end(),
                                    [&](const std::string& p) { return permitopen_admits(p, *options.backend); });
        if (!admitted) return "permitopen= does not admit the backend " + *options.backend;
    }
    return std::nullopt;
}

// Tells the client no (S2 denied), then throws; the driver sends the
// transport's deny.
asio::awaitable<void> refuse(Stream& stream, std::string detail) {
    try {
        Bytes s2 = encode_s2(false);
        co_await write_all(stream, asio::buffer(s2));
    } catch (const std::exception&) {
        // The client is gone: nothing more to tell it.
    }
    deny(DenyReason::denied, std::move(detail));
}

bool is_certificate_blob(ByteView blob) {
    try {
        openssh::WireReader in(blob);
        return openssh::is_certificate_type(in.text());
    } catch (const openssh::FormatError&) {
        return false;  // key_of reports the malformed blob
    }
}

// C1 with a user certificate: the cheap checks (parse, revocation, a
// cert-authority line for its CA admitting the peer, the line's options,
// the certificate's own rules), then the CA's signature, then the proof.
asio::awaitable<Session> serve_certificate(std::shared_ptr<PublicKeyFiles> files,
                                           std::shared_ptr<const PublicKeyFiles::Snapshot> files_now, Session session,
                                           Bytes channel_id, KeyProof c1, asio::ip::address peer) {
    std::optional<openssh::Certificate> parsed;
    try {
        parsed = openssh::Certificate::from_blob(c1.key_blob);
    } catch (const openssh::FormatError& e) {
        deny(DenyReason::protocol_error, std::string("C1: unusable user certificate: ") + e.what());
    }
    const openssh::Certificate& cert = *parsed;
    if (!c1.user) deny(DenyReason::protocol_error, "C1: a certificate without a claimed user");
    const std::string& user = *c1.user;
    const openssh::PublicKey& ca = cert.signature_key();
    const std::string what = "user certificate \"" + cert.key_id().substr(0, 64) + "\" serial " +
                             std::to_string(cert.serial()) + " for " + cert.key().type() + " " +
                             cert.key().fingerprint() + " signed by CA " + ca.fingerprint();

    const openssh::RevokedKeys& revoked = files_now->revoked_keys;
    if (revoked.contains(cert.key()) || revoked.contains(ca))
        co_await refuse(session.stream, what + ": " + (revoked.contains(ca) ? "the CA key" : "the key") +
                                            " is revoked (" + files->options().revoked_keys.string() + ")");
    openssh::KeyAuthorization found =
        openssh::find_certificate_authority(files_now->authorized_keys, ca, peer, std::chrono::system_clock::now());
    if (!found) co_await refuse(session.stream, what + ": " + found.reason);
    if (auto why = restrictions_refusal(files->options(), *found.entry))
        co_await refuse(session.stream, what + " (" + found.entry->source + "): " + *why);
    if (auto why = openssh::user_certificate_refusal(cert, user, found.entry->principals, peer,
                                                     openssh::certificate_now()))
        co_await refuse(session.stream, what + " (" + found.entry->source + "): " + *why);

    // Expensive last: the CA's signature, then the proof over this channel.
    if (!cert.verify_signature())
        co_await refuse(session.stream, what + ": the CA signature does not verify");
    const Bytes& host_blob = files_now->host_presented;
    if (!cert.key().verify(user_cert_signed_data(channel_id, host_blob, user, c1.key_blob), c1.signature))
        co_await refuse(session.stream, what + ": signature does not verify for this channel, host key and user "
                                               "(forged, or relayed from another connection)");

    Bytes s2 = encode_s2(true);
    co_await write_all(session.stream, asio::buffer(s2));

    Credentials& c = session.credentials;
    c.prove(public_key_layer, &Credentials::key_type, cert.type(), "key_type");
    c.prove(public_key_layer, &Credentials::key_fingerprint, cert.key().fingerprint(), "key_fingerprint");
    if (!found.entry->comment.empty())
        c.prove(public_key_layer, &Credentials::key_comment, found.entry->comment, "key_comment");
    c.prove(public_key_layer, &Credentials::key_restrictions, found.entry->restrictions, "key_restrictions");
    c.prove(public_key_layer, &Credentials::user, user, "user");
    c.prove(public_key_layer, &Credentials::cert_key_id, cert.key_id(), "cert_key_id");
    c.prove(public_key_layer, &Credentials::ssh_cert_serial, std::to_string(cert.serial()), "ssh_cert_serial");
    c.prove(public_key_layer, &Credentials::ssh_ca_fingerprint, ca.fingerprint(), "ssh_ca_fingerprint");
    c.prove(public_key_layer, &Credentials::ssh_cert_valid_before, std::to_string(cert.valid_before()),
            "ssh_cert_valid_before");
    co_return session;
}

asio::awaitable<Session> serve(std::shared_ptr<PublicKeyFiles> files, Session session) {
    require_side(session, ConnectionTrail::Side::server, "public_key");
    Bytes channel_id = require_channel_id(session.stream);
    // One snapshot for the whole handshake, even if reload() runs meanwhile.
    std::shared_ptr<const PublicKeyFiles::Snapshot> files_now = files->current();

    // S1: the host key (or its certificate) and its proof over this channel.
    Bytes s1 = encode_s1({files_now->host_presented, files_now->host_key.sign(host_signed_data(channel_id)), {}});
    co_await write_all(session.stream, asio::buffer(s1));

    // C1: the user key (or certificate) and its proof over this channel and our host key.
    KeyProof c1 = decode_c1(co_await read_frame(session.stream, max_public_key_message, "C1"));
    asio::ip::address peer = session.credentials.peer ? session.credentials.peer->address()
                                                      : session.stream.remote_endpoint().address();
    if (is_certificate_blob(c1.key_blob))
        co_return co_await serve_certificate(files, files_now, std::move(session), channel_id, std::move(c1), peer);
    if (c1.user) deny(DenyReason::protocol_error, "C1: a claimed user without a certificate");
    const openssh::PublicKey user = key_of(c1, "C1", "user");
    std::string fingerprint = user.fingerprint();

    // Cheap before expensive (DESIGN rule 9): the key must be listed, admitted
    // by from= and expiry-time, and usable by a gate before its signature is
    // verified, so an unlisted key costs no signature work.
    if (files_now->revoked_keys.contains(user))
        co_await refuse(session.stream, "user key " + user.type() + " " + fingerprint + " is revoked (" +
                                            files->options().revoked_keys.string() + ")");
    openssh::KeyAuthorization found =
        openssh::find_authorized_key(files_now->authorized_keys, user, peer, std::chrono::system_clock::now());
    if (!found) co_await refuse(session.stream, found.reason + ": " + user.type() + " " + fingerprint);
    if (auto why = restrictions_refusal(files->options(), *found.entry))
        co_await refuse(session.stream, "user key " + user.type() + " " + fingerprint + " (" + found.entry->source +
                                            "): " + *why + "; refused before verifying its signature");

    if (!user.verify(user_signed_data(channel_id, files_now->host_presented), c1.signature))
        co_await refuse(session.stream, "user key " + fingerprint +
                                            ": signature does not verify for this channel and host key "
                                            "(forged, or relayed from another connection)");

    // S2: accepted.
    Bytes s2 = encode_s2(true);
    co_await write_all(session.stream, asio::buffer(s2));

    Credentials& c = session.credentials;
    c.prove(public_key_layer, &Credentials::key_type, user.type(), "key_type");
    c.prove(public_key_layer, &Credentials::key_fingerprint, fingerprint, "key_fingerprint");
    if (!found.entry->comment.empty())
        c.prove(public_key_layer, &Credentials::key_comment, found.entry->comment, "key_comment");
    c.prove(public_key_layer, &Credentials::key_restrictions, found.entry->restrictions, "key_restrictions");
    co_return session;
}

}  // namespace

namespace {

// sshd's HostCertificate default: HOST_KEY-cert.pub when that file exists.
PublicKeyServerOptions with_defaults(PublicKeyServerOptions options) {
    if (options.host_certificate.empty()) {
        std::filesystem::path guess(options.host_key.string() + "-cert.pub");
        std::error_code ec;
        if (std::filesystem::exists(guess, ec)) options.host_certificate = guess;
    }
    return options;
}

}  // namespace

PublicKeyFiles::PublicKeyFiles(PublicKeyServerOptions options)
    : options_(with_defaults(std::move(options))), current_(load()) {}

std::shared_ptr<const PublicKeyFiles::Snapshot> PublicKeyFiles::load() const {
    auto host_key = openssh::load_private_key(options_.host_key, options_.host_key_passphrase);
    auto host_public = host_key.public_key();
    std::string text = openssh::read_trusted_file(options_.authorized_keys);
    auto authorized = openssh::parse_authorized_keys(text, options_.authorized_keys.string());
    openssh::RevokedKeys revoked;
    if (!options_.revoked_keys.empty())
        revoked = openssh::parse_revoked_keys(openssh::read_trusted_file(options_.revoked_keys),
                                              options_.revoked_keys.string());
    Bytes presented = host_public.blob();
    if (!options_.host_certificate.empty()) {
        auto cert = openssh::Certificate::from_line(openssh::read_trusted_file(options_.host_certificate));
        if (!(cert.key() == host_public))
            throw openssh::FormatError(options_.host_certificate.string() + ": certifies another key than " +
                                       options_.host_key.string());
        if (cert.certificate_type() != openssh::CertificateType::host)
            throw openssh::FormatError(options_.host_certificate.string() + ": not a host certificate");
        presented = cert.blob();
    }
    return std::make_shared<const Snapshot>(Snapshot{std::move(host_key), std::move(host_public),
                                                     std::move(authorized), std::move(revoked),
                                                     std::move(presented)});
}

void PublicKeyFiles::reload() { current_.replace(load()); }  // throws before anything changes

std::shared_ptr<const PublicKeyFiles::Snapshot> PublicKeyFiles::current() const { return current_.get(); }

const PublicKeyServerOptions& PublicKeyFiles::options() const noexcept { return options_; }

std::vector<std::string> PublicKeyFiles::warnings() const {
    auto now = current();
    std::vector<std::string> out = now->authorized_keys.warnings;
    out.insert(out.end(), now->revoked_keys.warnings.begin(), now->revoked_keys.warnings.end());
    return out;
}

std::string PublicKeyFiles::name() const {
    return "public_key: host key " + options_.host_key.string() + ", authorized_keys " +
           options_.authorized_keys.string();
}

Authenticator public_key(std::shared_ptr<PublicKeyFiles> files) {
    return [files = std::move(files)](Session session) { return serve(files, std::move(session)); };
}

Authenticator public_key(PublicKeyServerOptions options) {
    return public_key(std::make_shared<PublicKeyFiles>(std::move(options)));
}

}  // namespace authchain
