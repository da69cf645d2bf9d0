// authchain gate: authenticate each connection, then hand it to the backend.
//
// accept -> connection_limit | chain (under handshake_timeout) -> connect the
// backend -> [PROXY v2 header] -> pump. A refused connection never causes a
// backend connection; every connection leaves one audit line.
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <csignal>
#include <cstdio>
#include <stdexcept>

#include "auth/connection_limit.hpp"
#include "tools/audit_log.hpp"
#include "relay/connect.hpp"
#include "tools/commands.hpp"
#include "relay/proxy_v2.hpp"
#include "relay/pump.hpp"
#include "tools/service.hpp"
#include "transport/tcp.hpp"

namespace authchain::tools {

namespace {

struct Gate {
    const GateConfig& config;
    AuditLog& audit;
    HandshakeAudit& handshakes;
    LiveSessions& live;
    asio::ip::tcp::endpoint listen_endpoint;
};

std::string closed_by(PumpSide side) {
    if (side == PumpSide::a) return "client";
    if (side == PumpSide::b) return "backend";
    return "";
}

asio::awaitable<void> serve(const Gate& gate, Session session) {
    auto started = std::chrono::steady_clock::now();
    ConnectionAudit a;
    a.peer = session.credentials.peer.value_or({});
    if (auto record = gate.handshakes.take_accepted(a.peer)) {
        a.time = record->time;
        a.handshake = record->duration;
    } else {
        a.time = std::chrono::system_clock::now();
    }
    a.layers = session.credentials.layers();
    a.credentials = &session.credentials;
    a.verdict = "accepted";
    Stream& client = session.stream;
    Stream backend;
    auto executor = co_await asio::this_coro::executor;
    auto registered = gate.live.add(executor, [&client, &backend] {
        client.close();
        backend.close();
    });
    auto finish = [&](std::string verdict, std::string reason, std::string detail) {
        a.verdict = std::move(verdict);
        a.reason = std::move(reason);
        a.detail = std::move(detail);
        gate.audit.write(to_json(a));
    };
    if (gate.live.stopping()) {
        client.close();
        finish("error", "shutting down", "gate is stopping");
        co_return;
    }

    try {
        backend = co_await connect_to(gate.config.backend, gate.config.handshake_timeout);
    } catch (const std::exception& e) {
        client.close();
        finish("error", "backend unavailable", gate.config.backend.to_string() + ": " + e.what());
        co_return;
    }
    if (gate.config.proxy_protocol) {
        std::string reason, detail;
        try {
            // The address the client dialled (the listener's when the transport cannot tell).
            auto local = client.local_endpoint();
            if (local.port() == 0) local = gate.listen_endpoint;
            Bytes header = proxy_v2::encode_for(a.peer, local, session.credentials);
            try {
                co_await write_all(backend, asio::buffer(header));
            } catch (const std::exception& e) {
                reason = "backend closed", detail = std::string("sending the PROXY header: ") + e.what();
            }
        } catch (const std::length_error& e) {
            reason = "proxy header too long", detail = e.what();
        }
        if (!reason.empty()) {
            client.close();
            backend.close();
            finish("error", reason, detail);
            co_return;
        }
    }

    PumpSummary s = co_await pump(client, backend);
    a.close = ConnectionAudit::Close{s.a_to_b, s.b_to_a, std::chrono::steady_clock::now() - started,
                                     closed_by(s.first_closed)};
    client.close();
    backend.close();
    if (s.error && gate.live.stopping()) {
        a.close->closed_by = "gate";
        finish("accepted", "shutdown", "closed after the grace period: " + s.error_text);
    } else if (s.error) {
        std::string reason = s.first_closed == PumpSide::b ? "backend error" : "client error";
        finish("error", reason, s.error_text);
    } else {
        finish("accepted", "", "");
    }
}

}  // namespace

int run_gate(const GateConfig& config) {
    std::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<AuditLog> audit;
    try {
        audit = std::make_unique<AuditLog>(config.audit_log);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "authchain gate: %s: %s\n", config.file.c_str(), e.what());
        return 2;
    }
    // Declared before the io_context: coroutine frames it still holds when
    // it is destroyed unregister from `live`.
    HandshakeAudit handshakes(audit.get());
    LiveSessions live;
    asio::io_context io(2);
    if (config.listen.is_unix()) {
        std::fprintf(stderr, "authchain gate: listen must be a TCP address\n");
        return 2;
    }
    std::unique_ptr<TcpListener> listener;
    try {
        listener = std::make_unique<TcpListener>(io.get_executor(), config.listen.host, config.listen.port);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "authchain gate: cannot listen on %s: %s\n", config.listen.to_string().c_str(),
                     e.what());
        return 4;
    }
    if (config.user) {
        try {
            drop_privileges(*config.user);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "authchain gate: refusing to start: %s\n", e.what());
            return 2;
        }
    }

    Gate gate{config, *audit, handshakes, live, listener->local_endpoint()};

    ServerOptions options;
    options.handshake_timeout = config.handshake_timeout;
    options.max_handshakes = std::min<std::size_t>(options.max_handshakes, config.max_connections);
    options.audit = [&handshakes](const AuditRecord& r) { handshakes(r); };
    Authenticator chain = connection_limit(config.max_connections) | config.chain;
    Server server(*listener, chain, [&gate](Session s) { return serve(gate, std::move(s)); }, options);

    std::fprintf(stderr, "authchain gate: listening on %s, backend %s\n",
                 endpoint_text(listener->local_endpoint()).c_str(), config.backend.to_string().c_str());
    audit->write(event_json("start", {{"command", "gate"},
                                      {"listen", endpoint_text(listener->local_endpoint())},
                                      {"backend", config.backend.to_string()},
                                      {"layers", config.layer_names}}));

    ServiceOptions service{"gate", config.grace, config.reloadables, audit.get()};
    int status = serve_until_signalled(io, server, live, service);
    audit->write(event_json("exit", {{"status", status}}));
    return status;
}

}  // namespace authchain::tools
