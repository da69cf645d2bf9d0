#include <authchain/auth/failure_throttle.hpp>

#include <algorithm>
#include <fmt/format.h>

#include <authchain/compose/cidr.hpp>

namespace authchain {

namespace {

// A full table is swept for expired entries at most this often, so that a
// flood of new sources cannot make every attempt walk the whole table.
constexpr std::chrono::seconds min_sweep_gap{1};

}  // namespace

FailureThrottle::FailureThrottle(FailureThrottleOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
    if (options_.max_failures == 0) options_.max_failures = 1;
    if (options_.max_sources == 0) options_.max_sources = 1;
}

FailureThrottle::Entry& FailureThrottle::find_or_add(const asio::ip::address& source, time_point now,
                                                     bool& overflow) {
    overflow = false;
    auto it = table_.find(source);
    if (it != table_.end()) return it->second;
    if (table_.size() >= options_.max_sources && now >= next_sweep_ && now >= last_sweep_ + min_sweep_gap)
        sweep(now);
    if (table_.size() >= options_.max_sources) {
        overflow = true;
        return overflow_;
    }
    return table_[source];
}

void FailureThrottle::prune(Entry& e, time_point now) const {
    auto horizon = now - options_.window;
    std::erase_if(e.failures, [&](auto t) { return t <= horizon; });
}

void FailureThrottle::add_failure(Entry& e, time_point now) {
    prune(e, now);
    e.failures.push_back(now);
    if (e.failures.size() >= options_.max_failures) {
        e.blocked_until = now + options_.cooldown;
        e.failures.clear();
    }
}

FailureThrottle::time_point FailureThrottle::expiry(const Entry& e) const {
    if (e.in_flight > 0) return time_point::max();
    time_point last_failure = e.failures.empty() ? time_point{} : e.failures.back() + options_.window;
    return std::max(e.blocked_until, last_failure);
}

void FailureThrottle::settle(const asio::ip::address& source, bool overflow, time_point now) {
    if (overflow) return;
    auto it = table_.find(source);
    if (it == table_.end()) return;
    auto until = expiry(it->second);
    if (until <= now)
        table_.erase(it);
    else
        next_sweep_ = std::min(next_sweep_, until);
}

void FailureThrottle::sweep(time_point now) {
    auto next = time_point::max();
    for (auto it = table_.begin(); it != table_.end();) {
        auto until = expiry(it->second);
        if (until <= now) {
            it = table_.erase(it);
        } else {
            next = std::min(next, until);
            ++it;
        }
    }
    next_sweep_ = next;
    last_sweep_ = now;
}

FailureThrottle::Attempt FailureThrottle::begin(const asio::ip::address& address) {
    Attempt a;
    a.source = source_of(address);
    auto now = clock_();
    std::lock_guard lock(mutex_);
    Entry& e = find_or_add(a.source, now, a.overflow);
    prune(e, now);
    if (now < e.blocked_until) {
        a.admission = Admission::blocked;
    } else if (e.failures.size() + e.in_flight >= options_.max_failures) {
        a.admission = Admission::busy;
    } else {
        a.admission = Admission::admitted;
        ++e.in_flight;
    }
    if (a.admission != Admission::admitted) settle(a.source, a.overflow, now);
    return a;
}

void FailureThrottle::finish(const Attempt& a, Verdict verdict) {
    if (a.admission != Admission::admitted) return;
    auto now = clock_();
    std::lock_guard lock(mutex_);
    // An entry with an attempt in flight is never forgotten, so it is there.
    Entry& e = a.overflow ? overflow_ : table_[a.source];
    if (e.in_flight > 0) --e.in_flight;
    if (verdict == Verdict::failure) add_failure(e, now);
    if (verdict == Verdict::success) e.failures.clear();
    settle(a.source, a.overflow, now);
}

bool FailureThrottle::blocked(const asio::ip::address& address) {
    auto source = source_of(address);
    auto now = clock_();
    std::lock_guard lock(mutex_);
    auto it = table_.find(source);
    if (it != table_.end()) return now < it->second.blocked_until;
    return table_.size() >= options_.max_sources && now < overflow_.blocked_until;
}

void FailureThrottle::record_failure(const asio::ip::address& address) {
    auto source = source_of(address);
    auto now = clock_();
    std::lock_guard lock(mutex_);
    bool overflow = false;
    add_failure(find_or_add(source, now, overflow), now);
    settle(source, overflow, now);
}

void FailureThrottle::record_success(const asio::ip::address& address) {
    auto source = source_of(address);
    auto now = clock_();
    std::lock_guard lock(mutex_);
    auto it = table_.find(source);
    if (it == table_.end()) return;
    it->second.failures.clear();
    settle(source, false, now);
}

std::size_t FailureThrottle::tracked() const {
    std::lock_guard lock(mutex_);
    return table_.size();
}

namespace {

// Finishes an admitted attempt exactly once; an attempt whose coroutine is
// destroyed before its verdict counts as a failure.
struct InFlight {
    FailureThrottle& table;
    FailureThrottle::Attempt attempt;
    bool finished = false;
    void finish(FailureThrottle::Verdict verdict) {
        finished = true;
        table.finish(attempt, verdict);
    }
    ~InFlight() {
        if (!finished) table.finish(attempt, FailureThrottle::Verdict::failure);
    }
};

asio::awaitable<Session> run_throttle(std::shared_ptr<FailureThrottle> table,
                                      std::shared_ptr<const Authenticator> inner, Session session) {
    using Verdict = FailureThrottle::Verdict;
    auto address = session.stream.remote_endpoint().address();
    auto attempt = table->begin(address);
    if (attempt.admission == FailureThrottle::Admission::blocked)
        deny(DenyReason::host_blocked, fmt::format("{} is cooling down after repeated failures",
                                                   attempt.source.to_string()));
    if (attempt.admission == FailureThrottle::Admission::busy)
        deny(DenyReason::busy, fmt::format("{} has as many attempts pending or failed as it may",
                                           attempt.source.to_string()));
    InFlight in_flight{*table, attempt};
    session.credentials.note("failure_throttle", "not blocked");
    try {
        Session result = co_await (*inner)(std::move(session));
        in_flight.finish(Verdict::success);
        co_return result;
    } catch (const AuthenticationError& e) {
        bool counts = e.reason() != DenyReason::busy && e.reason() != DenyReason::host_blocked;
        in_flight.finish(counts ? Verdict::failure : Verdict::neither);
        throw;
    } catch (...) {
        in_flight.finish(Verdict::failure);
        throw;
    }
}

}  // namespace

Wrapper failure_throttle(std::shared_ptr<FailureThrottle> table) {
    return Wrapper([table](Authenticator inner) -> Authenticator {
        auto wrapped = std::make_shared<const Authenticator>(std::move(inner));
        return [table, wrapped](Session session) { return run_throttle(table, wrapped, std::move(session)); };
    });
}

Wrapper failure_throttle(FailureThrottleOptions options) {
    return failure_throttle(std::make_shared<FailureThrottle>(options));
}

Authenticator failure_throttle(std::shared_ptr<FailureThrottle> table, Authenticator inner) {
    return failure_throttle(std::move(table))(std::move(inner));
}

Authenticator failure_throttle(FailureThrottleOptions options, Authenticator inner) {
    return failure_throttle(options)(std::move(inner));
}

}  // namespace authchain
