#include <authchain/compose/text.hpp>
#include <authchain/transport/tls.hpp>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <authchain/transport/detail/tls/credentials.hpp>
#include <authchain/transport/detail/tls/engine.hpp>
#include <authchain/transport/detail/tls/tls_stream.hpp>

namespace authchain {

std::optional<std::chrono::system_clock::time_point> certificate_not_after(const TlsCredentials& credentials) {
    if (credentials.chain.empty()) return std::nullopt;
    const auto seconds = credentials.chain.front().not_after().time_since_epoch();
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
}

namespace {

constexpr const char* tls_layer = "tls";

// Runs the handshake on `inner`: writes what the engine queued, reads and
// feeds until it is established. The alert of a failed handshake is sent
// (best effort) before the denial goes up.
asio::awaitable<void> handshake(Stream& inner, tls_detail::Engine& engine) {
    tls_detail::OutputGate gate(inner.get_executor());
    std::vector<std::uint8_t> input(16384 + 2048);
    co_await gate.flush(inner, engine);
    while (!engine.established()) {
        const std::size_t n = co_await inner.read_some(asio::buffer(input));
        if (n == 0) deny(DenyReason::protocol_error, "tls: end of stream during the handshake");
        std::exception_ptr failure;
        try {
            engine.received(ByteView(input.data(), n));
        } catch (const AuthenticationError&) {
            failure = std::current_exception();
        }
        if (failure) {
            try {
                co_await gate.flush(inner, engine);  // the alert, so the peer learns why
            } catch (const std::exception&) {
            }
            std::rethrow_exception(failure);
        }
        co_await gate.flush(inner, engine);
        if (engine.peer_closed() && !engine.established())
            deny(DenyReason::protocol_error, "tls: the peer closed during the handshake");
    }
}

// Proves what the handshake established and wraps the stream.
Session establish(Session session, std::unique_ptr<tls_detail::Engine> engine, bool certificate_required) {
    const auto peer = engine->peer();
    if (certificate_required && !peer) deny(DenyReason::denied, "tls: the peer showed no certificate");
    Protection protection{.confidential = true,
                          .peer_authenticated = peer.has_value(),
                          .channel_id = engine->channel_id(),
                          .transport = engine->suite()};
    auto& c = session.credentials;
    c.prove(tls_layer, &Credentials::channel_id, protection.channel_id, "channel_id");
    if (peer) {
        c.prove(tls_layer, &Credentials::cert_subject, peer->subject, "cert_subject");
        if (!peer->common_name.empty())
            c.prove(tls_layer, &Credentials::cert_common_name, peer->common_name, "cert_common_name");
        c.prove(tls_layer, &Credentials::cert_serial, peer->serial, "cert_serial");
        c.prove(tls_layer, &Credentials::cert_fingerprint, peer->spki_sha256, "cert_fingerprint");
        c.prove(tls_layer, &Credentials::cert_san, peer->san, "cert_san");
        c.prove(tls_layer, &Credentials::cert_not_after, peer->not_after, "cert_not_after");
    }
    c.prove(tls_layer, &Credentials::tls_suite, engine->suite(), "tls_suite");
    session.stream = Stream::wrap<tls_detail::TlsStream>(std::move(session.stream), std::move(engine), std::move(protection));
    return session;
}

struct ServerConfig {
    TlsServerOptions options;
};

asio::awaitable<Session> accept_tls(Session session, std::shared_ptr<const ServerConfig> config) {
    require_side(session, ConnectionTrail::Side::server, "tls");
    auto credentials = config->options.credentials();
    if (!credentials || credentials->chain.empty()) deny(DenyReason::internal_error, "tls: no server certificate");
    auto engine = tls_detail::Engine::server({.credentials = std::move(credentials),
                                       .policy = config->options.policy,
                                       .client_certificate = config->options.client_certificate});
    co_await handshake(session.stream, *engine);
    const bool required = config->options.client_certificate == ClientCertificate::required;
    co_return establish(std::move(session), std::move(engine), required);
}

asio::awaitable<Session> connect_tls(Session session, std::shared_ptr<const client::TlsClientOptions> options) {
    require_side(session, ConnectionTrail::Side::client, "tls");
    auto credentials = options->credentials();
    if (!credentials) deny(DenyReason::internal_error, "tls: no credentials");
    auto engine = tls_detail::Engine::client(
        {.credentials = std::move(credentials), .policy = options->policy, .server_name = options->server_name});
    co_await handshake(session.stream, *engine);
    co_return establish(std::move(session), std::move(engine), true);
}

void check_policy(const TlsPolicy& policy) {
    if (auto why = tls_policy_error(policy); !why.empty()) throw std::invalid_argument("tls: " + why);
}

}  // namespace

std::string tls_policy_error(const TlsPolicy& policy) {
    auto check = [](const std::vector<std::string>& given, const std::vector<std::string>& known,
                    const char* what) -> std::string {
        if (given.empty()) return std::string("give at least one of ") + what;
        for (const auto& g : given) {
            if (std::find(known.begin(), known.end(), g) != known.end()) continue;
            return std::string("unknown ") + what + " \"" + g + "\" (known: " + join(known, ", ") + ")";
        }
        return {};
    };
    if (auto why = check(policy.ciphers, TlsPolicy{}.ciphers, "cipher"); !why.empty()) return why;
    return check(policy.groups, TlsPolicy{}.groups, "group");
}

Authenticator tls(TlsServerOptions options) {
    check_policy(options.policy);
    if (!options.credentials) throw std::invalid_argument("tls: no credentials source");
    auto config = std::make_shared<const ServerConfig>(ServerConfig{std::move(options)});
    return [config](Session session) { return accept_tls(std::move(session), config); };
}

namespace client {
Authenticator tls(TlsClientOptions options) {
    check_policy(options.policy);
    if (!options.credentials) throw std::invalid_argument("tls: no credentials source");
    if (options.server_name.empty()) throw std::invalid_argument("tls: no server name to check the certificate against");
    auto config = std::make_shared<const TlsClientOptions>(std::move(options));
    return [config](Session session) { return connect_tls(std::move(session), config); };
}
}  // namespace client

}  // namespace authchain
