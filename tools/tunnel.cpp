// authchain tunnel: a local port that reaches a gate through the client chain.
//
// accept (local) -> forward_to the gate: connect, authenticate (client
// chain), pump. A refused attempt closes the local client and logs the
// coarse reason.
#include <cstdio>

#include "tools/commands.hpp"
#include "tools/service.hpp"

namespace authchain::tools {

namespace {

// The tunnel's line: identity, layers and handshake are what its client
// chain proved about the server, not what the local accept knows.
nlohmann::json tunnel_line(const TunnelConfig& config, const Session& local, const ForwardSummary& summary) {
    ConnectionAudit a = forward_audit(local, summary, "tunnel", "server");
    a.layers = summary.backend_credentials.layers();
    a.credentials = &summary.backend_credentials;
    bool handshook = summary.outcome != ForwardOutcome::backend_unavailable &&
                     summary.outcome != ForwardOutcome::stopping;
    a.handshake = handshook ? summary.setup : std::chrono::steady_clock::duration{};
    const std::string server = config.server.to_string();
    if (summary.outcome == ForwardOutcome::refused)
        std::fprintf(stderr, "authchain tunnel: %s refused: %s\n", server.c_str(), a.reason.c_str());
    if (summary.outcome == ForwardOutcome::backend_unavailable)
        std::fprintf(stderr, "authchain tunnel: cannot reach %s\n", summary.error_text.c_str());
    auto j = to_json(a);
    j["server"] = server;
    return j;
}

}  // namespace

int run_tunnel(const TunnelConfig& config) {
    ServiceSpec spec{.name = "tunnel",
                     .config = config,
                     .far_label = "server",
                     .far = config.server,
                     .grace = std::chrono::milliseconds(2000)};
    return run_service(spec, [&config](const ServiceContext& service) {
        ForwardOptions options{.connect_timeout = config.handshake_timeout,
                               .client_chain = config.chain,
                               .handshake_timeout = config.handshake_timeout,
                               .live = service.live};
        AuditLog& audit = service.audit;
        ForwardReport report = [&config, &audit](const Session& local, const ForwardSummary& summary) {
            audit.write(tunnel_line(config, local, summary));
        };
        return Served{pass(), forward_to(config.server, options, report)};
    });
}

}  // namespace authchain::tools
