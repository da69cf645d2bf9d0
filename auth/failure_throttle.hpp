// failure_throttle: a source that keeps failing is blocked for a while.
//
// After `max_failures` failed authentications from one address within
// `window`, that address is refused with host_blocked for `cooldown`,
// without running the layers it wraps (so a password guesser cannot make
// the server spend Argon2 or signature checks). A failure is any refusal
// by the wrapped layers except busy and host_blocked, including timeouts
// and broken handshakes. A success clears the source's count.
//
// It is a Wrapper around the layers it protects, because it must see their
// verdicts. Placed mid-chain it wraps only what follows it:
//     ip_filter(allow) | failure_throttle(options) | (secure_channel() | public_key(keys))
// throttles failures of secure_channel and public_key; a refusal by
// ip_filter never reaches it. (`|` groups from the left: without the
// parentheses public_key would run after the throttle's verdict, outside it.)
//
// Memory is bounded: at most `max_sources` addresses are tracked; past
// that the least recently seen one is forgotten.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "compose/session.hpp"
#include "compose/wrapper.hpp"

namespace authchain {

struct FailureThrottleOptions {
    std::size_t max_failures = 5;
    std::chrono::seconds window{60};
    std::chrono::seconds cooldown{300};
    std::size_t max_sources = 10000;
};

// The shared table; thread-safe. Exposed for tests and for sharing one
// table between several listeners.
class FailureThrottle {
public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    explicit FailureThrottle(FailureThrottleOptions options, Clock clock = std::chrono::steady_clock::now);

    // True while `address` is in its cool-down.
    bool blocked(const asio::ip::address& address);
    void record_failure(const asio::ip::address& address);
    void record_success(const asio::ip::address& address);
    std::size_t tracked() const;

private:
    struct Entry {
        std::list<asio::ip::address>::iterator order;
        std::vector<std::chrono::steady_clock::time_point> failures;  // within window, oldest first
        std::chrono::steady_clock::time_point blocked_until{};
    };
    Entry& touch(const asio::ip::address& address);

    FailureThrottleOptions options_;
    Clock clock_;
    mutable std::mutex mutex_;
    std::list<asio::ip::address> order_;  // most recently seen first
    std::unordered_map<std::string, Entry> table_;
};

// A table of its own, or a shared one.
Wrapper failure_throttle(FailureThrottleOptions options);
Wrapper failure_throttle(std::shared_ptr<FailureThrottle> table);
// Conveniences: failure_throttle(options_or_table)(inner).
Authenticator failure_throttle(FailureThrottleOptions options, Authenticator inner);
Authenticator failure_throttle(std::shared_ptr<FailureThrottle> table, Authenticator inner);

}  // namespace authchain
