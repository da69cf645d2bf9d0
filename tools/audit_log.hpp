// The audit log of the gate and the tunnel: one JSON object per line.
//
// One "connection" line per connection: a refused one when it is refused,
// an accepted one when it closes (with the bytes each way). Other events
// (start, reload, stop) have their own "event" value. Lines are built with
// nlohmann::json, never by pasting strings, so a peer-controlled value
// (a key comment, a user name) cannot forge a field or a line.
//
// Connection line fields:
//   time          ISO 8601 UTC with milliseconds, when the connection arrived
//   event         "connection"
//   peer          "127.0.0.1:5555"
//   layers        layers passed, in order
//   identity      {key_fingerprint, key_type, key_comment, host_name, user,
//                  cert_subject, psk_id, cert_key_id, ssh_cert_serial,
//                  ssh_ca_fingerprint, ssh_cert_valid_before} -- only the facts proven
//   verdict       "accepted" | "denied" | "error"
//   reason        coarse reason ("denied", "busy", "internal error", ..., "backend unavailable",
//                 "backend error", "client error", "client integrity failure"
//                 (a tampered or truncated secure channel: the backend was
//                 reset), "shutdown") -- absent when
//                 accepted and closed cleanly
//   detail        local detail (never sent to the peer)
//   handshake_ms  duration of the chain
//   bytes_in      client -> backend (accepted only)
//   bytes_out     backend -> client (accepted only)
//   duration_ms   whole session (accepted only)
//   closed_by     who ended first: "client" | "backend" ("server" for the
//                 tunnel) | "gate"/"tunnel" (closed at shutdown) (accepted only)
//   multiplexed   true for a stream of a multiplexed channel (multiplex = true);
//                 absent otherwise. A multiplexing gate also writes a "channel"
//                 line per channel (tools/gate.cpp, docs/runtime.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include <authchain/compose/combinators.hpp>
#include <authchain/compose/credentials.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain::tools {

// "2026-11-25T08:40:00.123Z"
std::string iso8601_utc(std::chrono::system_clock::time_point t);

// What the log says about one connection.
struct ConnectionAudit {
    std::chrono::system_clock::time_point time;
    asio::ip::tcp::endpoint peer;
    std::vector<std::string> layers;
    const Credentials* credentials = nullptr;  // identity of an accepted session
    std::string verdict;                       // "accepted", "denied", "error"
    std::string reason;                        // coarse; empty = none
    std::string detail;                        // local
    std::chrono::steady_clock::duration handshake{};
    // Set once an accepted session is over.
    struct Close {
        std::uint64_t bytes_in = 0, bytes_out = 0;
        std::chrono::steady_clock::duration duration{};
        std::string closed_by;
    };
    std::optional<Close> close;
};

// The identity facts of `c` as a JSON object (only the proven ones).
nlohmann::json identity_json(const Credentials& c);
nlohmann::json to_json(const ConnectionAudit& a);
// A refused attempt as the Server driver reports it.
nlohmann::json to_json(const AuditRecord& r);
// Any other event: {"time", "event": name} merged with `fields`.
nlohmann::json event_json(std::string_view name, nlohmann::json fields = nlohmann::json::object());

class AuditLog {
public:
    // `target`: a path, "-" for stdout, or empty for no log. A path is opened
    // O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW (created 0600) only in a safe
    // directory (openssh::check_safe_directories: it and every directory
    // above it owned by us or root and not writable by group or others), and
    // the opened descriptor must be a regular file owned by us or root, not
    // writable by group or others, with no other hard link (DESIGN rule 10). Throws std::system_error
    // if the file cannot be opened, std::runtime_error if it is refused.
    explicit AuditLog(const std::string& target);
    ~AuditLog();
    AuditLog(const AuditLog&) = delete;
    AuditLog& operator=(const AuditLog&) = delete;

    bool enabled() const noexcept { return fd_ >= 0; }
    // Opens the file again (after logrotate moved it away; SIGHUP), with the
    // same checks; the old descriptor is closed once the new one is in use.
    // Throws as the constructor; then the old file stays in use. Nothing to
    // do for stdout or no log.
    void reopen();
    // Appends `entry` as one line with a single write(2); thread-safe.
    // A failed write is reported once on stderr and otherwise ignored.
    void write(const nlohmann::json& entry);

private:
    static int open_audit_file(const std::string& target);

    std::string target_;
    int fd_ = -1;
    bool owned_ = false;
    bool write_failed_ = false;
    std::mutex mutex_;
};

}  // namespace authchain::tools
