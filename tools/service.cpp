#include "tools/service.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fmt/format.h>
#include <thread>

#include "auth/connection_limit.hpp"
#include "tools/audit_throttle.hpp"
#include "transport/tcp.hpp"

namespace authchain::tools {

namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

// What the running service needs after setup.
struct Running {
    const ServiceSpec& spec;
    AuditLog& audit;
    Server& server;
    LiveForwards& live;
    AuditThrottle& throttle;
};

void reload_all(const Running& r) {
    const char* name = r.spec.name.c_str();
    for (const auto& file : r.spec.config.reloadables) {
        try {
            file->reload();
            std::fprintf(stderr, "authchain %s: reloaded %s\n", name, file->name().c_str());
            r.audit.write(event_json("reload", {{"name", file->name()}, {"ok", true}}));
            report_warnings(r.spec.name, *file, &r.audit);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "authchain %s: reload of %s failed, keeping the old one: %s\n", name,
                         file->name().c_str(), e.what());
            r.audit.write(event_json("reload", {{"name", file->name()}, {"ok", false}, {"detail", e.what()}}));
        }
    }
    if (r.spec.config.reloadables.empty())
        r.audit.write(event_json("reload", {{"ok", true}, {"detail", "nothing to reload"}}));
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
asio::awaitable<void> supervise(asio::io_context& io, asio::signal_set& signals, const Running& r) {
    std::string why = "accept loop ended";
    for (;;) {
        auto [ec, signo] = co_await signals.async_wait(as_tuple_awaitable);
        if (ec) break;  // cancelled: the accept loop failed
        if (signo == SIGHUP) {
            reload_all(r);
            continue;
        }
        why = signo == SIGTERM ? "SIGTERM" : "SIGINT";
        break;
    }
    r.live.stop();
    r.server.stop();
    r.audit.write(event_json("stop", {{"signal", why}, {"live", r.live.size()}}));

    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + r.spec.grace;
    // A session still in its handshake reaches the handler, which turns it
    // away (stopping) and audits it: wait for those too, within the grace.
    while (r.server.in_handshake() > 0 && clock::now() < deadline) co_await pause(std::chrono::milliseconds(20));
    std::size_t closed = co_await r.live.shutdown(deadline - clock::now());
    if (closed > 0)
        std::fprintf(stderr, "authchain %s: grace over, closed %zu connection(s)\n", r.spec.name.c_str(), closed);
    io.stop();
}

// Runs the server with two threads until the graceful stop; 0, or 4 if
// accepting failed.
int serve_until_signalled(asio::io_context& io, const Running& r) {
    auto strand = asio::make_strand(io);
    asio::signal_set signals(strand, SIGHUP, SIGTERM, SIGINT);
    int status = 0;
    asio::co_spawn(io, r.server.run(), [&](std::exception_ptr e) {
        if (!e || r.live.stopping()) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "authchain %s: accepting failed: %s\n", r.spec.name.c_str(), x.what());
        }
        status = 4;
        asio::post(strand, [&signals] { signals.cancel(); });
    });
    asio::co_spawn(strand, supervise(io, signals, r), [](std::exception_ptr) {});
    asio::co_spawn(strand, flush_audit(r.throttle), [](std::exception_ptr) {});

    std::thread other([&io] { io.run(); });
    io.run();
    other.join();
    return status;
}

}  // namespace

int run_service(const ServiceSpec& spec, const std::function<Served(const ServiceContext&)>& serve) {
    const char* name = spec.name.c_str();
    const CommonConfig& config = spec.config;
    std::signal(SIGPIPE, SIG_IGN);
    std::unique_ptr<AuditLog> audit;
    try {
        audit = std::make_unique<AuditLog>(config.audit_log);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "authchain %s: %s: %s\n", name, config.file.c_str(), e.what());
        return 2;
    }
    // Refused attempts are rate-limited per source; a flood cannot fill the disk.
    AuditThrottle throttle(*audit);
    auto live = std::make_shared<LiveForwards>();
    asio::io_context io(2);  // after what the coroutine frames it may still hold touch
    if (config.listen.is_unix() || config.listen.host.empty()) {
        std::fprintf(stderr, "authchain %s: %s: listen must be a TCP \"host:port\"\n", name, config.file.c_str());
        return 2;
    }
    std::unique_ptr<TcpListener> listener;
    try {
        listener = std::make_unique<TcpListener>(io.get_executor(), config.listen.host, config.listen.port);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "authchain %s: cannot listen on %s: %s\n", name, config.listen.to_string().c_str(),
                     e.what());
        return 4;
    }
    if (spec.user) {
        try {
            drop_privileges(*spec.user);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "authchain %s: refusing to start: %s\n", name, e.what());
            return 2;
        }
    }

    const std::string listening = endpoint_text(listener->local_endpoint());
    Served served = serve(ServiceContext{*audit, live, listener->local_endpoint()});
    ServerOptions options;
    options.handshake_timeout = config.handshake_timeout;
    options.max_handshakes = std::min<std::size_t>(options.max_handshakes, config.max_connections);
    // Refused attempts; the handler writes the line of an accepted one when it closes.
    options.audit = [&throttle](const AuditRecord& r) {
        if (!r.accepted)
            throttle.refused(to_json(r), r.peer.address(), r.reason ? to_string(*r.reason) : "refused");
    };
    Authenticator limit = connection_limit(config.max_connections, config.max_connections_per_source);
    Authenticator chain = limit | served.chain;
    Server server(*listener, chain, served.handler, options);

    std::fprintf(stderr, "authchain %s: listening on %s, %s %s\n", name, listening.c_str(), spec.far_label.c_str(),
                 spec.far.to_string().c_str());
    audit->write(event_json("start", {{"command", spec.name},
                                      {"listen", listening},
                                      {spec.far_label, spec.far.to_string()},
                                      {"layers", config.layer_names}}));
    report_warnings(spec.name, config, audit.get());
    int status = serve_until_signalled(io, Running{spec, *audit, server, *live, throttle});
    throttle.flush(/*everything=*/true);
    audit->write(event_json("exit", {{"status", status}}));
    return status;
}

ConnectionAudit forward_audit(const Session& client, const ForwardSummary& s, std::string_view self,
                              std::string_view far) {
    ConnectionAudit a;
    a.time = client.handshake.started;
    a.peer = client.credentials.peer.value_or({});
    a.layers = client.credentials.layers();
    a.credentials = &client.credentials;
    a.handshake = client.handshake.duration;
    auto set = [&a](std::string verdict, std::string reason, std::string detail) {
        a.verdict = std::move(verdict);
        a.reason = std::move(reason);
        a.detail = std::move(detail);
    };
    auto closed_by = [&] {
        if (s.outcome == ForwardOutcome::closed) return std::string(self);
        if (s.closed_first == ForwardSide::client) return std::string("client");
        if (s.closed_first == ForwardSide::backend) return std::string(far);
        return std::string();
    };
    bool far_side = s.closed_first == ForwardSide::backend;
    switch (s.outcome) {
        case ForwardOutcome::forwarded: set("accepted", "", ""); break;
        case ForwardOutcome::error:
            if (s.integrity_failure != ForwardSide::none)
                set("error", far_side ? std::string(far) + " integrity failure" : "client integrity failure",
                    s.error_text);
            else
                set("error", far_side ? std::string(far) + " error" : "client error", s.error_text);
            break;
        case ForwardOutcome::closed:
            set("accepted", "shutdown", "closed after the grace period: " + s.error_text);
            break;
        case ForwardOutcome::backend_unavailable: set("error", std::string(far) + " unavailable", s.error_text); break;
        case ForwardOutcome::refused:
            set("denied", std::string(to_string(s.refusal.value_or(DenyReason::denied))), s.error_text);
            break;
        case ForwardOutcome::proxy_header_failed:
            set("error", far_side ? std::string(far) + " closed" : "proxy header too long", s.error_text);
            break;
        case ForwardOutcome::stopping: set("error", "shutting down", std::string(self) + " is stopping"); break;
    }
    bool pumped = s.outcome == ForwardOutcome::forwarded || s.outcome == ForwardOutcome::error ||
                  s.outcome == ForwardOutcome::closed;
    if (pumped) a.close = ConnectionAudit::Close{s.client_to_backend, s.backend_to_client, s.duration, closed_by()};
    return a;
}

void report_warnings(std::string_view name, const Reloadable& file, AuditLog* audit) {
    for (const auto& w : file.warnings()) {
        std::fprintf(stderr, "authchain %.*s: WARNING: %s\n", static_cast<int>(name.size()), name.data(), w.c_str());
        if (audit) audit->write(event_json("warning", {{"name", file.name()}, {"detail", w}}));
    }
}

void report_warnings(std::string_view name, const CommonConfig& config, AuditLog* audit) {
    for (const auto& file : config.reloadables) report_warnings(name, *file, audit);
}

void drop_privileges(const std::string& user) {
    struct passwd pw{};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || !found) throw std::runtime_error("unknown user \"" + user + "\"");
    if (getuid() == pw.pw_uid && geteuid() == pw.pw_uid && getgid() == pw.pw_gid) return;
    auto fail = [&](const char* what) {
        throw std::runtime_error(fmt::format("cannot become user \"{}\": {}: {}", user, what, std::strerror(errno)));
    };
    if (initgroups(pw.pw_name, pw.pw_gid) != 0) fail("initgroups");
    if (setgid(pw.pw_gid) != 0) fail("setgid");
    if (setuid(pw.pw_uid) != 0) fail("setuid");
    if (pw.pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        throw std::runtime_error("privileges could be regained after dropping to \"" + user + "\"");
}

}  // namespace authchain::tools
