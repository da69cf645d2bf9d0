// authchain tunnel: a local port that reaches a gate through the client chain.
//
// accept (local) -> forward_to the gate: connect, authenticate (client
// chain), pump. A refused attempt closes the local client and logs the
// coarse reason.
//
// With multiplex = true each local connection is a stream on a channel to
// the gate (relay/multiplex.hpp) instead: the dialer of the config's
// generation connects and authenticates a channel when a stream needs one.
#include <cstdio>

#include <authchain/relay/multiplex.hpp>

#include "tools/commands.hpp"
#include "tools/service.hpp"

namespace authchain::tools {

namespace {

// The tunnel's line: identity, layers and handshake are what its client
// chain proved about the server, not what the local accept knows.
nlohmann::json tunnel_line(const TunnelConfig& config, const Session& local, const ForwardSummary& summary) {
    ConnectionAudit a = forward_audit(local, summary, "tunnel", "server");
    static const Credentials none;
    const Credentials& proved = summary.backend_credentials ? *summary.backend_credentials : none;
    a.layers = proved.layers();
    a.credentials = &proved;
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

namespace {

// Opens the streams of one reading of the config: its channels end with it.
// A channel is reached and authenticated as `forward` would reach the server.
std::shared_ptr<MultiplexDialer> dialer_for(const TunnelConfig& config, const ForwardOptions& forward) {
    DialOptions options{.connect_timeout = forward.connect_timeout,
                        .keepalive = forward.keepalive,
                        .client_chain = forward.client_chain,
                        .client = {.handshake_timeout = forward.handshake_timeout},
                        .session = {.max_streams = config.multiplex_max_streams,
                                    .window = config.multiplex_window,
                                    .hello_timeout = forward.handshake_timeout},
                        .live = forward.live};
    return std::make_shared<MultiplexDialer>(config.server, std::move(options));
}

ServiceSetup tunnel_setup(std::shared_ptr<const TunnelConfig> config) {
    ServiceSetup setup{.config = config,
                       .far_label = "server",
                       .far = config->server,
                       .grace = std::chrono::milliseconds(2000)};
    setup.serve = [config](const ServiceContext& service) {
        ForwardOptions options{.connect_timeout = config->handshake_timeout,
                               .keepalive = std::chrono::duration_cast<std::chrono::seconds>(config->keepalive),
                               .client_chain = config->chain,
                               .handshake_timeout = config->handshake_timeout,
                               .pump = {.idle_timeout = config->idle_timeout},
                               .live = service.live};
        if (config->multiplex) options.open = dialer_for(*config, options)->opener();
        ForwardReport report = [config, service](const Session& local, const ForwardSummary& summary) {
            auto line = tunnel_line(*config, local, summary);
            if (config->multiplex) line["multiplexed"] = true;
            service.audit.write(line);
            record_forward(service.metrics, summary);
        };
        return Served{pass(), forward_to(config->server, options, report)};
    };
    return setup;
}

}  // namespace

int run_tunnel(const TunnelConfig& config) {
    auto first = std::make_shared<const TunnelConfig>(config);
    return run_service("tunnel", tunnel_setup(first), [file = config.file] {
        return tunnel_setup(
            std::make_shared<const TunnelConfig>(load_tunnel_config(file, TunnelCommand::tunnel)));
    });
}

}  // namespace authchain::tools
