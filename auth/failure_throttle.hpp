// failure_throttle: a source that keeps failing is blocked for a while.
//
// After `max_failures` failed authentications from one source within
// `window`, that source is refused with host_blocked for `cooldown`,
// without running the layers it wraps (so a password guesser cannot make
// the server spend Argon2 or signature checks). A failure is any refusal
// by the wrapped layers except busy and host_blocked, including timeouts
// and broken handshakes. A success clears the source's count.
//
// A source is an IPv4 address or an IPv6 /64 (compose/cidr.hpp
// source_of); an IPv4-mapped address counts as the IPv4 address.
//
// Attempts in flight count as failures until they succeed: a source may
// have at most `max_failures` attempts pending or failed within the window,
// so opening many connections at once does not buy more guesses. One more
// concurrent attempt is refused as busy (and not counted).
//
// It is a Wrapper around the layers it protects, because it must see their
// verdicts. Placed mid-chain it wraps only what follows it:
//     ip_filter(allow) | failure_throttle(options) | (secure_channel() | public_key(keys))
// throttles failures of secure_channel and public_key; a refusal by
// ip_filter never reaches it. (`|` groups from the left: without the
// parentheses public_key would run after the throttle's verdict, outside it.)
//
// Memory is bounded without letting a source unblock itself: at most
// `max_sources` sources are tracked individually. An entry is forgotten
// only once nothing about it is live (no attempt in flight, no failure
// within the window, no cool-down running); a blocked entry is never
// evicted before its cool-down ends, whatever other sources do. When the
// table is full of live entries, every new source shares one overflow
// entry (the fail-safe choice): together they get `max_failures` attempts
// per window, and are blocked together. A flood from many sources thus
// slows down new sources until entries expire, but never lifts a block.
#pragma once

#include <asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <authchain/compose/session.hpp>
#include <authchain/compose/wrapper.hpp>

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

    // One attempt from a source, from begin() to finish().
    enum class Admission { admitted, blocked, busy };
    struct Attempt {
        Admission admission = Admission::blocked;
        asio::ip::address source;  // source_of(address)
        bool overflow = false;     // counted in the shared overflow entry
    };
    // Starts an attempt: admitted unless the source is cooling down
    // (blocked) or its attempts pending plus failures within the window
    // already reach max_failures (busy). An admitted attempt must be
    // finished exactly once.
    Attempt begin(const asio::ip::address& address);
    // How an admitted attempt ended; `neither` (refused busy or
    // host_blocked by the inner layers) leaves the count as it was.
    enum class Verdict { success, failure, neither };
    void finish(const Attempt& attempt, Verdict verdict);

    // True while the source of `address` is in its cool-down (an untracked
    // source while the table is full: while the overflow entry is).
    bool blocked(const asio::ip::address& address);
    // A whole finished attempt at once, whether or not the source is
    // blocked: a failure counts (and may block), a success clears the count.
    void record_failure(const asio::ip::address& address);
    void record_success(const asio::ip::address& address);
    // Sources tracked individually (the overflow entry is not counted).
    std::size_t tracked() const;

private:
    using time_point = std::chrono::steady_clock::time_point;
    struct Entry {
        std::vector<time_point> failures;  // within window, oldest first
        std::size_t in_flight = 0;
        time_point blocked_until{};
    };
    // The source's entry; the overflow entry when the table is full of
    // live entries. Sets `overflow` accordingly. Call with mutex_ held.
    Entry& find_or_add(const asio::ip::address& source, time_point now, bool& overflow);
    void prune(Entry& e, time_point now) const;
    void add_failure(Entry& e, time_point now);
    // When `e` stops being live if nothing happens; max() while in flight.
    time_point expiry(const Entry& e) const;
    // Forgets the entry if nothing about it is live; else notes its expiry.
    void settle(const asio::ip::address& source, bool overflow, time_point now);
    void sweep(time_point now);

    FailureThrottleOptions options_;
    Clock clock_;
    mutable std::mutex mutex_;
    std::map<asio::ip::address, Entry> table_;
    Entry overflow_;
    time_point next_sweep_{};  // no entry expires before this
    time_point last_sweep_ = time_point::min();
};

// A table of its own, or a shared one.
Wrapper failure_throttle(FailureThrottleOptions options);
Wrapper failure_throttle(std::shared_ptr<FailureThrottle> table);
// Conveniences: failure_throttle(options_or_table)(inner).
Authenticator failure_throttle(FailureThrottleOptions options, Authenticator inner);
Authenticator failure_throttle(std::shared_ptr<FailureThrottle> table, Authenticator inner);

}  // namespace authchain
