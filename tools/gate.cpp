// authchain gate: authenticate each connection, then hand it to the backend.
//
// accept [trusted PROXY v2 in] -> connection_limit | chain (under
// handshake_timeout) -> forward_to the backend: connect, [PROXY v2 header],
// pump. A refused connection never causes a backend connection; every
// connection leaves one audit line.
//
// With multiplex = true an accepted connection is a channel
// (relay/multiplex.hpp): each stream the tunnel opens on it is forwarded as
// above and leaves its own line ("multiplexed": true); the channel leaves a
// "channel" line when it ends.
#include <authchain/relay/multiplex.hpp>

#include "tools/commands.hpp"
#include "tools/service.hpp"

namespace authchain::tools {

namespace {

// The line a channel leaves when it ends: who (what the chain proved, once
// for every stream on it), how many streams, and why it ended.
nlohmann::json channel_line(const Session& channel, const ChannelSummary& summary) {
    using std::chrono::duration_cast;
    using std::chrono::milliseconds;
    return event_json("channel", {{"peer", endpoint_text(channel.credentials.peer.value_or({}))},
                                  {"identity", identity_json(channel.credentials)},
                                  {"layers", channel.credentials.layers()},
                                  {"streams", summary.streams},
                                  {"end", summary.end_reason},
                                  {"duration_ms", duration_cast<milliseconds>(summary.duration).count()},
                                  {"started", summary.started}});
}

// The handler of a multiplexing gate: `per_stream` forwards each stream.
Handler serve_channels(const GateConfig& config, const ServiceContext& service, Handler per_stream,
                       std::shared_ptr<ChannelSet> channels) {
    ChannelReport channel_report = [service](const Session& channel, const ChannelSummary& summary) {
        auto line = channel_line(channel, summary);
        add_via(line, service, channel.credentials.peer.value_or({}));
        service.audit.write(line);
        service.metrics.channel_ended(summary.started);
    };
    mux::SessionOptions session{.max_streams = config.multiplex_max_streams,
                                .window = config.multiplex_window,
                                .hello_timeout = config.handshake_timeout};
    return serve_multiplexed(std::move(per_stream), session, std::move(channel_report), std::move(channels));
}

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
        ForwardReport report = [service, multiplexed = config->multiplex](const Session& client,
                                                                           const ForwardSummary& summary) {
            ConnectionAudit a = forward_audit(client, summary, "gate", "backend");
            // A stream's session is the channel's (its credentials, its
            // handshake): the time is the stream's own, when it was opened.
            if (multiplexed)
                a.time = std::chrono::system_clock::now() -
                         std::chrono::duration_cast<std::chrono::system_clock::duration>(summary.duration);
            auto line = to_json(a);
            if (multiplexed) line["multiplexed"] = true;
            add_via(line, service, client.credentials.peer.value_or({}));
            service.audit.write(line);
            record_forward(service.metrics, summary);
        };
        Handler forward = forward_to(config->backend, options, std::move(report));
        if (!config->multiplex) return Served{config->chain, std::move(forward)};
        // A reload sends the channels of this configuration a goaway: their
        // tunnels open new streams on new channels, under the new chain.
        auto channels = std::make_shared<ChannelSet>();
        return Served{config->chain, serve_channels(*config, service, std::move(forward), channels),
                      [channels] { channels->go_away_all(); }};
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
