// authchain gate: authenticate each connection, then hand it to the backend.
//
// accept [trusted PROXY v2 in] -> connection_limit | chain (under
// handshake_timeout) -> forward_to the backend: connect, [PROXY v2 header],
// pump. A refused connection never causes a backend connection; every
// connection leaves one audit line.
#include "tools/commands.hpp"
#include "tools/service.hpp"

namespace authchain::tools {

namespace {

ServiceSetup gate_setup(std::shared_ptr<const GateConfig> config) {
    ServiceSetup setup{.config = config,
                       .far_label = "backend",
                       .far = config->backend,
                       .user = config->user,
                       .grace = config->grace,
                       .proxy_protocol_from = config->proxy_protocol_from,
                       .proxy_protocol_optional_from_others = config->proxy_protocol_optional_from_others};
    setup.serve = [config](const ServiceContext& service) {
        ForwardOptions options{.connect_timeout = config->handshake_timeout,
                               .keepalive = std::chrono::duration_cast<std::chrono::seconds>(config->keepalive),
                               .proxy_v2 = config->proxy_protocol.has_value(),
                               .proxy_destination = service.listening,
                               .pump = {.idle_timeout = config->idle_timeout},
                               .live = service.live};
        ForwardReport report = [config, service](const Session& client, const ForwardSummary& summary) {
            auto line = to_json(forward_audit(client, summary, "gate", "backend"));
            add_via(line, service, client.credentials.peer.value_or({}));
            service.audit.write(line);
            record_forward(service.metrics, summary);
        };
        return Served{config->chain, forward_to(config->backend, options, report)};
    };
    return setup;
}

}  // namespace

int run_gate(const GateConfig& config) {
    auto first = std::make_shared<const GateConfig>(config);
    return run_service("gate", gate_setup(first), [file = config.file] {
        return gate_setup(std::make_shared<const GateConfig>(load_gate_config(file)));
    });
}

}  // namespace authchain::tools
