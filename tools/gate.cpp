// authchain gate: authenticate each connection, then hand it to the backend.
//
// accept -> connection_limit | chain (under handshake_timeout) -> forward_to
// the backend: connect, [PROXY v2 header], pump. A refused connection never
// causes a backend connection; every connection leaves one audit line.
#include "tools/commands.hpp"
#include "tools/service.hpp"

namespace authchain::tools {

int run_gate(const GateConfig& config) {
    ServiceSpec spec{.name = "gate",
                     .config = config,
                     .far_label = "backend",
                     .far = config.backend,
                     .user = config.user,
                     .grace = config.grace};
    return run_service(spec, [&config](const ServiceContext& service) {
        ForwardOptions options{.connect_timeout = config.handshake_timeout,
                               .proxy_v2 = config.proxy_protocol.has_value(),
                               .proxy_destination = service.listening,
                               .live = service.live};
        AuditLog& audit = service.audit;
        ForwardReport report = [&audit](const Session& client, const ForwardSummary& summary) {
            audit.write(to_json(forward_audit(client, summary, "gate", "backend")));
        };
        return Served{config.chain, forward_to(config.backend, options, report)};
    });
}

}  // namespace authchain::tools
