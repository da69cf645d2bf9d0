// authchain tunnel: a local port that reaches a gate through the client chain.
//
// accept (local) -> connect the gate -> authenticate(client chain) -> pump.
// A refused attempt closes the local client and logs the coarse reason.
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <csignal>
#include <cstdio>

#include "auth/connection_limit.hpp"
#include "tools/audit_log.hpp"
#include "relay/connect.hpp"
#include "tools/commands.hpp"
#include "relay/pump.hpp"
#include "tools/service.hpp"
#include "transport/tcp.hpp"

namespace authchain::tools {

namespace {

struct Tunnel {
    const TunnelConfig& config;
    AuditLog& audit;
    HandshakeAudit& accepts;
    LiveSessions& live;
};

asio::awaitable<void> serve(const Tunnel& tunnel, Session local) {
    auto started = std::chrono::steady_clock::now();
    ConnectionAudit a;
    a.peer = local.credentials.peer.value_or({});
    (void)tunnel.accepts.take_accepted(a.peer);
    a.time = std::chrono::system_clock::now();
    Stream& client = local.stream;
    Session remote;
    auto executor = co_await asio::this_coro::executor;
    auto registered = tunnel.live.add(executor, [&client, &remote] {
        client.close();
        remote.stream.close();
    });
    auto finish = [&](std::string verdict, std::string reason, std::string detail) {
        a.verdict = std::move(verdict);
        a.reason = std::move(reason);
        a.detail = std::move(detail);
        auto j = to_json(a);
        j["server"] = tunnel.config.server.to_string();
        tunnel.audit.write(j);
    };
    if (tunnel.live.stopping()) {
        client.close();
        finish("error", "shutting down", "tunnel is stopping");
        co_return;
    }

    const auto& server = tunnel.config.server;
    std::optional<std::string> refused, failed;
    try {
        Stream stream = co_await connect_to(server, tunnel.config.handshake_timeout);
        ClientOptions options{.handshake_timeout = tunnel.config.handshake_timeout};
        remote = co_await authenticate(std::move(stream), tunnel.config.chain, options);
    } catch (const AuthenticationError& e) {
        a.handshake = std::chrono::steady_clock::now() - started;
        refused = std::string(to_string(e.reason()));
        client.close();
        std::fprintf(stderr, "authchain tunnel: %s refused: %s\n", server.to_string().c_str(), refused->c_str());
        finish("denied", *refused, e.detail());
        co_return;
    } catch (const std::exception& e) {
        client.close();
        std::fprintf(stderr, "authchain tunnel: cannot reach %s: %s\n", server.to_string().c_str(), e.what());
        finish("error", "server unavailable", server.to_string() + ": " + e.what());
        co_return;
    }
    a.handshake = std::chrono::steady_clock::now() - started;
    a.layers = remote.credentials.layers();
    a.credentials = &remote.credentials;

    PumpSummary s = co_await pump(client, remote.stream);
    a.close = ConnectionAudit::Close{s.a_to_b, s.b_to_a, std::chrono::steady_clock::now() - started,
                                     s.first_closed == PumpSide::a   ? "client"
                                     : s.first_closed == PumpSide::b ? "server"
                                                                     : ""};
    client.close();
    remote.stream.close();
    if (s.error && tunnel.live.stopping()) {
        a.close->closed_by = "tunnel";
        finish("accepted", "shutdown", "closed after the grace period: " + s.error_text);
    } else if (s.error)
        finish("error", s.first_closed == PumpSide::b ? "server error" : "client error", s.error_text);
    else
        finish("accepted", "", "");
}

}  // namespace

int run_tunnel(const TunnelConfig& config) {
    std::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<AuditLog> audit;
    try {
        audit = std::make_unique<AuditLog>(config.audit_log);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "authchain tunnel: %s: %s\n", config.file.c_str(), e.what());
        return 2;
    }
    HandshakeAudit accepts(audit.get());
    LiveSessions live;
    asio::io_context io(2);  // after what its leftover coroutine frames touch
    if (config.listen.is_unix() || config.listen.host.empty()) {
        std::fprintf(stderr, "authchain tunnel: %s: listen = \"host:port\" is required\n", config.file.c_str());
        return 2;
    }
    std::unique_ptr<TcpListener> listener;
    try {
        listener = std::make_unique<TcpListener>(io.get_executor(), config.listen.host, config.listen.port);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "authchain tunnel: cannot listen on %s: %s\n", config.listen.to_string().c_str(),
                     e.what());
        return 4;
    }

    Tunnel tunnel{config, *audit, accepts, live};
    ServerOptions options;
    options.handshake_timeout = config.handshake_timeout;
    options.max_handshakes = std::min<std::size_t>(options.max_handshakes, config.max_connections);
    options.audit = [&accepts](const AuditRecord& r) { accepts(r); };
    Server server(*listener, connection_limit(config.max_connections),
                  [&tunnel](Session s) { return serve(tunnel, std::move(s)); }, options);

    std::fprintf(stderr, "authchain tunnel: listening on %s, server %s\n",
                 endpoint_text(listener->local_endpoint()).c_str(), config.server.to_string().c_str());
    audit->write(event_json("start", {{"command", "tunnel"},
                                      {"listen", endpoint_text(listener->local_endpoint())},
                                      {"server", config.server.to_string()},
                                      {"layers", config.layer_names}}));
    ServiceOptions service{"tunnel", std::chrono::milliseconds(2000), config.reloadables, audit.get()};
    int status = serve_until_signalled(io, server, live, service);
    audit->write(event_json("exit", {{"status", status}}));
    return status;
}

}  // namespace authchain::tools
