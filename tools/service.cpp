#include "tools/service.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
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

namespace authchain::tools {

// ---- LiveSessions -----------------------------------------------------

LiveSessions::Guard::~Guard() {
    if (!owner_) return;
    std::lock_guard lock(owner_->mutex_);
    owner_->entries_.erase(id_);
}

LiveSessions::Guard LiveSessions::add(asio::any_io_executor executor, std::function<void()> close) {
    std::lock_guard lock(mutex_);
    auto id = next_++;
    entries_.emplace(id, Entry{std::move(executor), std::move(close)});
    return Guard(this, id);
}

std::size_t LiveSessions::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void LiveSessions::close_all() {
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : entries_) {
        // Runs on the session's strand; the session may be gone by then.
        asio::post(entry.executor, [this, id = id] {
            std::function<void()> close;
            {
                std::lock_guard inner(mutex_);
                auto it = entries_.find(id);
                if (it == entries_.end()) return;
                close = it->second.close;
            }
            close();
        });
    }
}

bool LiveSessions::stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
}

void LiveSessions::set_stopping() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
}

// ---- HandshakeAudit ---------------------------------------------------

void HandshakeAudit::operator()(const AuditRecord& record) {
    if (record.accepted) {
        std::lock_guard lock(mutex_);
        accepted_.insert_or_assign(record.peer, record);
        return;
    }
    if (audit_) audit_->write(to_json(record));
}

std::optional<AuditRecord> HandshakeAudit::take_accepted(const asio::ip::tcp::endpoint& peer) {
    std::lock_guard lock(mutex_);
    auto it = accepted_.find(peer);
    if (it == accepted_.end()) return std::nullopt;
    AuditRecord record = std::move(it->second);
    accepted_.erase(it);
    return record;
}

// ---- signals and shutdown ---------------------------------------------

namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

void log_event(const ServiceOptions& options, std::string_view event, nlohmann::json fields) {
    if (options.audit) options.audit->write(event_json(event, std::move(fields)));
}

void reload_all(const ServiceOptions& options) {
    for (const auto& r : options.reloadables) {
        try {
            r->reload();
            std::fprintf(stderr, "authchain %s: reloaded %s\n", options.name.c_str(), r->name().c_str());
            log_event(options, "reload", {{"name", r->name()}, {"ok", true}});
        } catch (const std::exception& e) {
            std::fprintf(stderr, "authchain %s: reload of %s failed, keeping the old one: %s\n",
                         options.name.c_str(), r->name().c_str(), e.what());
            log_event(options, "reload", {{"name", r->name()}, {"ok", false}, {"detail", e.what()}});
        }
    }
    if (options.reloadables.empty()) log_event(options, "reload", {{"ok", true}, {"detail", "nothing to reload"}});
}

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(as_tuple_awaitable);
}

// Waits for a stop signal (reloading on SIGHUP), then stops gracefully.
asio::awaitable<void> supervise(asio::io_context& io, asio::signal_set& signals, Server& server,
                                LiveSessions& live, const ServiceOptions& options) {
    std::string why = "accept loop ended";
    for (;;) {
        auto [ec, signo] = co_await signals.async_wait(as_tuple_awaitable);
        if (ec) break;  // cancelled: the accept loop failed
        if (signo == SIGHUP) {
            reload_all(options);
            continue;
        }
        why = signo == SIGTERM ? "SIGTERM" : "SIGINT";
        break;
    }
    live.set_stopping();
    server.stop();
    log_event(options, "stop", {{"signal", why}, {"live", live.size()}});

    using clock = std::chrono::steady_clock;
    auto deadline = clock::now() + options.grace;
    while ((live.size() > 0 || server.in_handshake() > 0) && clock::now() < deadline)
        co_await pause(std::chrono::milliseconds(20));
    std::size_t left = live.size();
    if (left > 0) {
        std::fprintf(stderr, "authchain %s: grace over, closing %zu connection(s)\n", options.name.c_str(), left);
        live.close_all();
        // Let the sessions unwind and write their audit lines (bounded).
        auto until = clock::now() + std::chrono::seconds(2);
        while (live.size() > 0 && clock::now() < until) co_await pause(std::chrono::milliseconds(10));
    }
    io.stop();
}

}  // namespace

int serve_until_signalled(asio::io_context& io, Server& server, LiveSessions& live,
                          const ServiceOptions& options) {
    auto strand = asio::make_strand(io);
    asio::signal_set signals(strand, SIGHUP, SIGTERM, SIGINT);
    int status = 0;
    asio::co_spawn(io, server.run(), [&](std::exception_ptr e) {
        if (!e || live.stopping()) return;
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            std::fprintf(stderr, "authchain %s: accepting failed: %s\n", options.name.c_str(), x.what());
        }
        status = 4;
        asio::post(strand, [&signals] { signals.cancel(); });
    });
    asio::co_spawn(strand, supervise(io, signals, server, live, options), [](std::exception_ptr) {});

    std::vector<std::thread> others;
    for (unsigned i = 1; i < options.threads; ++i) others.emplace_back([&io] { io.run(); });
    io.run();
    for (auto& t : others) t.join();
    return status;
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
