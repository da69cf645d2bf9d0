// AuditThrottle: bounds what a flood of refused connections writes to the
// audit log (a flood once wrote 57-94 MB per 15-30 s).
//
// Refused attempts are counted per (source address, coarse reason) in
// windows of `interval`: the first `lines_per_interval` of a window are
// written as usual; the rest are only counted, and one "suppressed" line
// per source and reason says how many were left out:
//
//   {"time", "event": "suppressed", "source": "10.0.0.7", "reason": "denied",
//    "count": 4213, "since": <time of the first one left out>}
//
// It is written when that source's window is over: at its next refused
// attempt, or by flush() (the service calls it every interval and at exit),
// so a flood leaves at most lines_per_interval + 1 lines per second per
// source and reason. At most `max_sources` keys are tracked; beyond, new
// sources share the key ("*", reason). Accepted connections never pass here:
// each one keeps its line. Thread-safe.
#pragma once

#include <asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>

#include "tools/audit_log.hpp"

namespace authchain::tools {

struct AuditThrottleOptions {
    std::size_t lines_per_interval = 10;  // per source and reason
    std::chrono::steady_clock::duration interval = std::chrono::seconds(1);
    std::size_t max_sources = 4096;       // (source, reason) keys tracked
};

class AuditThrottle {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    explicit AuditThrottle(AuditLog& log, AuditThrottleOptions options = {},
                           Clock clock = [] { return std::chrono::steady_clock::now(); });

    // A refused attempt from `source`: writes `line`, or counts it.
    void refused(const nlohmann::json& line, const asio::ip::address& source, std::string_view reason);
    // Writes the "suppressed" line of every window that is over (all of them
    // when `everything`, at exit) and forgets the sources that went quiet.
    void flush(bool everything = false);

    const AuditThrottleOptions& options() const noexcept { return options_; }

private:
    struct Window {
        std::chrono::steady_clock::time_point start;
        std::size_t written = 0;
        std::uint64_t suppressed = 0;
        std::chrono::system_clock::time_point first_suppressed;
    };
    using Key = std::pair<std::string, std::string>;  // source, reason

    void close_window(const Key& key, Window& w);

    AuditLog& log_;
    AuditThrottleOptions options_;
    Clock clock_;
    std::mutex mutex_;
    std::map<Key, Window> windows_;
};

}  // namespace authchain::tools
