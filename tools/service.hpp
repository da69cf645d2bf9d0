// The process life of `authchain gate` and `authchain tunnel`: two threads
// on one io_context, the live sessions, and the signals.
//
//   SIGHUP          reload() every Reloadable; established connections stay.
//                   A failed reload keeps the old files; both are logged.
//   SIGTERM/SIGINT  stop accepting; live connections get `grace` to finish,
//                   then they are closed; the process exits 0.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/io_context.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "compose/server.hpp"
#include "tools/audit_log.hpp"
#include "config/config.hpp"

namespace authchain::tools {

// The command is built on the config wing: its types are the command's vocabulary.
using namespace authchain::config;

// The sessions past their handshake, so shutdown can wait for them and
// then close them. Thread-safe.
class LiveSessions {
public:
    // Registers a session running on `executor` (its strand); `close` is
    // called on that executor. The returned guard unregisters on
    // destruction; destroy it on the same executor, before what `close`
    // touches.
    class Guard {
    public:
        Guard(LiveSessions* owner, std::uint64_t id) : owner_(owner), id_(id) {}
        Guard(Guard&& o) noexcept : owner_(o.owner_), id_(o.id_) { o.owner_ = nullptr; }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        Guard& operator=(Guard&&) = delete;
        ~Guard();

    private:
        LiveSessions* owner_;
        std::uint64_t id_;
    };
    Guard add(asio::any_io_executor executor, std::function<void()> close);

    std::size_t size() const;
    // Asks every live session to close (posted to its executor).
    void close_all();
    // Once set, handlers refuse new work (they close at once).
    bool stopping() const;
    void set_stopping();

private:
    struct Entry {
        asio::any_io_executor executor;
        std::function<void()> close;
    };
    mutable std::mutex mutex_;
    std::map<std::uint64_t, Entry> entries_;
    std::uint64_t next_ = 0;
    bool stopping_ = false;
};

struct ServiceOptions {
    std::string name;  // "gate", "tunnel": for messages
    std::chrono::milliseconds grace{10000};
    std::vector<std::shared_ptr<Reloadable>> reloadables;
    AuditLog* audit = nullptr;
    unsigned threads = 2;  // threads running the io_context
};

// Runs `server` on `io` with two threads until SIGTERM or SIGINT, handling
// SIGHUP meanwhile; then the graceful stop described above. Returns 0, or 4
// if the accept loop failed.
int serve_until_signalled(asio::io_context& io, Server& server, LiveSessions& live,
                          const ServiceOptions& options);

// Drops root to `user` (initgroups, setgid, setuid) and checks it cannot be
// regained. Throws std::runtime_error naming what failed. A process already
// running as that user is left as is.
void drop_privileges(const std::string& user);

// The ServerOptions::audit sink that writes refused attempts to `audit` and
// keeps accepted ones (their time and handshake duration) for take_accepted.
class HandshakeAudit {
public:
    explicit HandshakeAudit(AuditLog* audit) : audit_(audit) {}
    void operator()(const AuditRecord& record);
    // The record of the accepted session from `peer` (removed), if any.
    std::optional<AuditRecord> take_accepted(const asio::ip::tcp::endpoint& peer);

private:
    AuditLog* audit_;
    std::mutex mutex_;
    std::map<asio::ip::tcp::endpoint, AuditRecord> accepted_;
};

}  // namespace authchain::tools
