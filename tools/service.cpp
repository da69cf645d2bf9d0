#include "tools/service.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <csignal>
#include <fmt/format.h>
#include <thread>

#include <authchain/auth/connection_limit.hpp>
#include <authchain/auth/resumption.hpp>
#include <authchain/compose/cidr.hpp>
#include <authchain/compose/current_snapshot.hpp>
#include <authchain/compose/wrapper.hpp>
#include <authchain/compose/detail/as_tuple_awaitable.hpp>
#include "config/registry.hpp"
#include "tools/audit_throttle.hpp"
#include "tools/listener.hpp"
#include "tools/log.hpp"
#include "tools/systemd.hpp"

namespace authchain::tools {

namespace {

// The Server's own deadline stays above every configurable handshake_timeout:
// each generation runs its chain under its own (with_timeout below).
constexpr auto server_deadline = std::chrono::hours(1) + std::chrono::seconds(1);

// One configuration in use: what a reading of the file built.
struct Generation {
    ServiceSetup setup;
    Authenticator limit;     // connection_limit, kept across reloads while its numbers stay
    Authenticator chain;     // with_timeout(handshake_timeout) | limit | the command's chain
    Handler handler;
    std::function<void()> retire;  // Served::retire
    std::vector<std::string> order;  // layer names in chain order, for the refusing layer
};

// The generation new connections use; swapped on SIGHUP.
using Current = CurrentSnapshot<Generation>;

// A connection keeps its generation (chain, handler) alive until it ends.
asio::awaitable<Session> run_chain_of(std::shared_ptr<const Generation> g, Session session) {
    co_return co_await g->chain(std::move(session));
}

// The handler's coroutine, counted while it runs. It takes the coroutine,
// not the Session, so the session lives in one frame only (the handler's);
// `g` keeps the connection's generation alive until it ends.
asio::awaitable<void> run_counted([[maybe_unused]] std::shared_ptr<const Generation> g, Metrics& metrics,
                                  asio::awaitable<void> handler) {
    metrics.session_started();
    struct Ended {
        Metrics& m;
        ~Ended() { m.session_ended(); }
    } ended{metrics};
    co_await std::move(handler);
}

asio::awaitable<void> run_handler_of(std::shared_ptr<const Generation> g, Metrics& metrics, Session session) {
    metrics.accepted(session.handshake.duration, resumed(session.credentials));
    auto handler = g->handler(std::move(session));
    return run_counted(std::move(g), metrics, std::move(handler));
}

// The layer that refused: the first of the chain's layers that did not pass.
std::string refusing_layer(const std::vector<std::string>& order, const std::vector<std::string>& passed) {
    for (const auto& name : order)
        if (std::find(passed.begin(), passed.end(), name) == passed.end()) return name;
    return "none";
}

struct Process {
    std::string name;
    AuditLog& audit;
    AuditThrottle& throttle;
    Metrics& metrics;
    std::shared_ptr<LiveForwards> live;
    ServiceListener& listener;
    asio::ip::tcp::endpoint listening;
    std::shared_ptr<Current> current;
    SetupLoader reload;
    asio::ip::tcp::acceptor* metrics_acceptor = nullptr;
    Server* server = nullptr;
};

ListenerOptions listener_options(const ServiceSetup& s) {
    ListenerOptions o;
    for (const auto& text : s.proxy_protocol_from) o.proxy_from.push_back(Cidr::parse(text));
    o.optional_from_others = s.proxy_protocol_optional_from_others;
    o.header_timeout = s.config->handshake_timeout;
    o.keepalive = std::chrono::duration_cast<std::chrono::seconds>(s.config->keepalive);
    return o;
}

std::shared_ptr<const Generation> build_generation(ServiceSetup setup, const Process& p,
                                                   const Generation* previous) {
    auto g = std::make_shared<Generation>();
    const CommonConfig& c = *setup.config;
    bool same_limit = previous && previous->setup.config->max_connections == c.max_connections &&
                      previous->setup.config->max_connections_per_source == c.max_connections_per_source;
    g->limit = same_limit ? previous->limit : connection_limit(c.max_connections, c.max_connections_per_source);
    Served served = setup.serve(ServiceContext{p.audit, p.metrics, p.live, p.listening, p.listener});
    Authenticator limited = g->limit | served.chain;
    g->chain = with_timeout(c.handshake_timeout)(std::move(limited));
    g->handler = std::move(served.handler);
    g->retire = std::move(served.retire);
    g->order.push_back("connection_limit");
    g->order.insert(g->order.end(), c.layer_names.begin(), c.layer_names.end());
    g->order.push_back("allow");
    g->setup = std::move(setup);
    return g;
}

// Settings the running process cannot take over: reported, the old ones stay.
std::vector<std::string> needs_restart(const ServiceSetup& old_setup, const ServiceSetup& next) {
    const CommonConfig& a = *old_setup.config;
    const CommonConfig& b = *next.config;
    std::vector<std::string> keys;
    if (a.socket_activation != b.socket_activation) keys.push_back("socket_activation");
    if (!b.socket_activation && a.listen.to_string() != b.listen.to_string()) keys.push_back("listen");
    if (old_setup.user != next.user) keys.push_back("user");
    if (a.audit_log != b.audit_log) keys.push_back("audit_log");
    auto metrics_text = [](const CommonConfig& c) { return c.metrics_listen ? c.metrics_listen->to_string() : ""; };
    if (metrics_text(a) != metrics_text(b)) keys.push_back("metrics_listen");
    if (a.threads != b.threads) keys.push_back("threads");
    if (std::min<std::size_t>(256, a.max_connections) != std::min<std::size_t>(256, b.max_connections))
        keys.push_back("max_connections (for the handshake bound; the connection limit itself is applied)");
    return keys;
}

void reload_all(const Process& p) {
    notify("RELOADING=1");
    try {
        p.audit.reopen();
    } catch (const std::exception& e) {
        log(LogLevel::error, p.name, std::string("cannot reopen the audit log, keeping the old file: ") + e.what());
    }
    auto old = p.current->get();
    try {
        ServiceSetup next = p.reload();
        auto restart = needs_restart(old->setup, next);
        for (const auto& key : restart)
            log(LogLevel::warning, p.name,
                fmt::format("reload: {} changed; it needs a restart, the running value stays", key));
        auto options = listener_options(next);
        set_log_level(parse_log_level(next.config->log_level));
        auto g = build_generation(std::move(next), p, old.get());
        p.listener.update(std::move(options));
        p.current->replace(g);
        if (old->retire) old->retire();
        log(LogLevel::info, p.name, "reloaded " + g->setup.config->file.string());
        nlohmann::json fields{{"name", g->setup.config->file.string()}, {"ok", true}};
        if (!restart.empty()) fields["needs_restart"] = restart;
        p.audit.write(event_json("reload", fields));
        p.metrics.reloaded(true);
        report_warnings(p.name, *g->setup.config, &p.audit);
    } catch (const std::exception& e) {
        log(LogLevel::error, p.name, std::string("reload failed, keeping the old configuration: ") + e.what());
        p.audit.write(event_json("reload", {{"name", old->setup.config->file.string()},
                                            {"ok", false},
                                            {"detail", e.what()}}));
        p.metrics.reloaded(false);
    }
    notify("READY=1");
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(as_tuple_awaitable);
}

// Writes the "suppressed" lines of refused floods once their window is over.
asio::awaitable<void> flush_audit(AuditThrottle& throttle) {
    auto every = std::chrono::duration_cast<std::chrono::milliseconds>(throttle.options().interval);
    for (;;) {
        co_await pause(every);
        throttle.flush();
    }
}

// Waits for a stop signal (reloading on SIGHUP), then stops gracefully.
asio::awaitable<void> supervise(asio::io_context& io, asio::signal_set& signals, const Process& p) {
    std::string why = "accept loop ended";
    for (;;) {
        auto [ec, signo] = co_await signals.async_wait(as_tuple_awaitable);
        if (ec) break;  // cancelled: the accept loop failed
        if (signo == SIGHUP) {
            reload_all(p);
            continue;
        }
        why = signo == SIGTERM ? "SIGTERM" : "SIGINT";
        break;
    }
    notify("STOPPING=1");
    p.live->stop();
    p.server->stop();
    if (p.metrics_acceptor) {
        std::error_code ignored;
        p.metrics_acceptor->close(ignored);
    }
    p.audit.write(event_json("stop", {{"signal", why}, {"live", p.live->size()}}));

    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + p.current->get()->setup.grace;
    // A session still in its handshake reaches the handler, which turns it
    // away (stopping) and audits it: wait for those too, within the grace.
    while (p.server->in_handshake() > 0 && clock::now() < deadline) co_await pause(std::chrono::milliseconds(20));
    std::size_t closed = co_await p.live->shutdown(deadline - clock::now());
    if (closed > 0) log(LogLevel::info, p.name, fmt::format("grace over, closed {} connection(s)", closed));
    io.stop();
}

// Tells systemd `ready` once the signals are caught, then runs the server
// until the graceful stop: `io` (signals, reload, accept, metrics, the audit
// flush) on this thread, the connections on `loops`, a thread each; 0, or 4
// if accepting failed.
int serve_until_signalled(asio::io_context& io, EventLoops& loops, const Process& p, const std::string& ready) {
    auto strand = asio::make_strand(io);
    asio::signal_set signals(strand, SIGHUP, SIGTERM, SIGINT);
    notify(ready);  // only now: a SIGHUP from the manager is handled from here on
    int status = 0;
    asio::co_spawn(io, p.server->run(), [&](std::exception_ptr e) {
        if (!e || p.live->stopping()) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            log(LogLevel::error, p.name, std::string("accepting failed: ") + x.what());
        }
        status = 4;
        asio::post(strand, [&signals] { signals.cancel(); });
    });
    asio::co_spawn(strand, supervise(io, signals, p), [](std::exception_ptr) {});
    asio::co_spawn(strand, flush_audit(p.throttle), [](std::exception_ptr) {});
    if (p.metrics_acceptor)
        asio::co_spawn(asio::make_strand(io), serve_metrics(*p.metrics_acceptor, p.metrics), asio::detached);

    loops.start();
    io.run();
    // The drain is over (or accepting failed): what is left on the loops is
    // destroyed with them, after their threads have returned.
    loops.stop();
    loops.join();
    // What the stop cancelled here completes now, on this thread alone: the
    // accept that was waiting with a socket of a loop, a stream queued for
    // the Server. Left queued, it would be destroyed after the loops.
    io.restart();
    io.poll();
    return status;
}

nlohmann::json listener_refusal_line(const ListenerRefusal& r) {
    std::string reason = r.reason == "untrusted source" ? "host blocked"
                         : r.reason == "busy"           ? "busy"
                                                        : "protocol error";
    return event_json("connection", {{"peer", endpoint_text(r.from)},
                                     {"layers", nlohmann::json::array()},
                                     {"verdict", "denied"},
                                     {"reason", reason},
                                     {"detail", r.reason + ": " + r.detail}});
}

}  // namespace

int run_service(std::string name_text, ServiceSetup first, SetupLoader reload) {
    const std::string& name = name_text;
    const CommonConfig& config = *first.config;
    set_log_level(parse_log_level(config.log_level));
    std::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<AuditLog> audit;
    try {
        audit = std::make_unique<AuditLog>(config.audit_log);
    } catch (const std::exception& e) {
        log(LogLevel::error, name, config.file.string() + ": " + e.what());
        return 2;
    }
    // Refused attempts are rate-limited per source; a flood cannot fill the disk.
    AuditThrottle throttle(*audit);
    Metrics metrics;
    auto live = std::make_shared<LiveForwards>();
    asio::io_context io(1);  // after what the coroutine frames it may still hold touch
    // The connections' loops, one thread each: after what their frames
    // touch, before the listener that hands them connections.
    EventLoops loops(config.threads);
    if (!config.socket_activation && (config.listen.is_unix() || config.listen.host.empty())) {
        log(LogLevel::error, name, config.file.string() + ": listen must be a TCP \"host:port\"");
        return 2;
    }
    std::optional<asio::ip::tcp::acceptor> acceptor;
    try {
        if (config.socket_activation)
            acceptor.emplace(adopt_acceptor(io.get_executor(), socket_from_systemd()));
        else
            acceptor.emplace(bind_acceptor(io.get_executor(), config.listen.host, config.listen.port));
    } catch (const std::exception& e) {
        log(LogLevel::error, name,
            fmt::format("cannot listen on {}: {}",
                        config.socket_activation ? "the socket from systemd" : config.listen.to_string(), e.what()));
        return config.socket_activation ? 2 : 4;
    }
    std::optional<asio::ip::tcp::acceptor> metrics_acceptor;
    if (config.metrics_listen) {
        try {
            metrics_acceptor.emplace(
                bind_acceptor(io.get_executor(), config.metrics_listen->host, config.metrics_listen->port));
        } catch (const std::exception& e) {
            log(LogLevel::error, name,
                fmt::format("cannot listen on {} (metrics_listen): {}", config.metrics_listen->to_string(), e.what()));
            return 4;
        }
    }
    if (first.user) {
        try {
            drop_privileges(*first.user);
        } catch (const std::exception& e) {
            log(LogLevel::error, name, std::string("refusing to start: ") + e.what());
            return 2;
        }
    }

    auto listening_endpoint = acceptor->local_endpoint();
    ServiceListener listener(std::move(*acceptor), listener_options(first),
                             [&throttle, &metrics, name](const ListenerRefusal& r) {
                                 log(LogLevel::debug, name,
                                     fmt::format("closed {} before the chain: {}: {}", endpoint_text(r.from),
                                                 r.reason, r.detail));
                                 auto line = listener_refusal_line(r);
                                 std::string reason = line["reason"];
                                 metrics.denied(reason, "proxy_protocol");
                                 throttle.refused(line, r.from.address(), reason);
                             },
                             &loops);
    const std::string listening = endpoint_text(listening_endpoint);
    auto current = std::make_shared<Current>();
    Process p{name, *audit, throttle, metrics, live, listener, listening_endpoint, current, std::move(reload)};
    p.metrics_acceptor = metrics_acceptor ? &*metrics_acceptor : nullptr;
    current->replace(build_generation(std::move(first), p, nullptr));
    const ServiceSetup& setup = current->get()->setup;

    ServerOptions options;
    options.handshake_timeout = server_deadline;
    options.max_handshakes = std::min<std::size_t>(options.max_handshakes, config.max_connections);
    options.loops = &loops;
    // Refused attempts; the handler writes the line of an accepted one when it closes.
    options.audit = [&throttle, &metrics, &listener, current](const AuditRecord& r) {
        if (r.accepted) return;
        std::string reason = r.reason ? std::string(to_string(*r.reason)) : "refused";
        metrics.denied(reason, refusing_layer(current->get()->order, r.layers_passed));
        auto line = to_json(r);
        if (auto via = listener.balancer_of(r.peer)) line["via"] = endpoint_text(*via);
        throttle.refused(line, r.peer.address(), reason);
    };
    Authenticator chain = [current](Session s) { return run_chain_of(current->get(), std::move(s)); };
    Handler handler = [current, &metrics](Session s) {
        return run_handler_of(current->get(), metrics, std::move(s));
    };
    Server server(listener, chain, handler, options);
    p.server = &server;

    std::string exposed_warning;  // logged after the start event
    if (exposed_without_guard(config, name == "gate")) {
        std::string what = name == "gate" ? "no ip_filter and no layer that authenticates the peer"
                                          : "its clients are not authenticated (a tunnel lends them its identity)";
        log(LogLevel::warning, name, "**************************************************************");
        log(LogLevel::warning, name, fmt::format("listening on {}, reachable from other hosts, with {}:", listening, what));
        log(LogLevel::warning, name, fmt::format("anyone who can reach it gets to {}. Listen on 127.0.0.1, or add an "
                                                 "ip_filter layer.", setup.far.to_string()));
        log(LogLevel::warning, name, "**************************************************************");
        exposed_warning = "reachable from other hosts with " + what;
    }
    log(LogLevel::info, name, fmt::format("listening on {}{}, {} {}", listening,
                                          config.socket_activation ? " (socket from systemd)" : "",
                                          setup.far_label, setup.far.to_string()));
    if (metrics_acceptor)
        log(LogLevel::info, name, "metrics on http://" + endpoint_text(metrics_acceptor->local_endpoint()) + "/metrics");
    nlohmann::json start{{"command", name},
                         {"listen", listening},
                         {setup.far_label, setup.far.to_string()},
                         {"layers", config.layer_names}};
    if (!setup.proxy_protocol_from.empty()) start["proxy_protocol_from"] = setup.proxy_protocol_from;
    audit->write(event_json("start", start));
    if (!exposed_warning.empty()) audit->write(event_json("warning", {{"name", "listen"}, {"detail", exposed_warning}}));
    report_warnings(name, config, audit.get());
    int status = serve_until_signalled(io, loops, p, "READY=1\nSTATUS=listening on " + listening);
    throttle.flush(/*everything=*/true);
    audit->write(event_json("exit", {{"status", status}}));
    return status;
}

bool exposed_without_guard(const CommonConfig& config, bool server_side) {
    std::error_code ec;
    auto address = asio::ip::make_address(config.listen.host, ec);
    if (config.socket_activation || ec || normalize(address).is_loopback()) return false;
    if (!server_side) return true;
    const auto& kinds = config.layer_names;
    bool filtered = std::find(kinds.begin(), kinds.end(), "ip_filter") != kinds.end();
    return !filtered && !chain_authenticates(kinds);
}

void report_warnings(std::string_view name, const Reloadable& file, AuditLog* audit) {
    for (const auto& w : file.warnings()) {
        log(LogLevel::warning, name, w);
        if (audit) audit->write(event_json("warning", {{"name", file.name()}, {"detail", w}}));
    }
}

void report_warnings(std::string_view name, const CommonConfig& config, AuditLog* audit) {
    for (const auto& file : config.reloadables) report_warnings(name, *file, audit);
}

}  // namespace authchain::tools
