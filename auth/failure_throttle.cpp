#include "auth/failure_throttle.hpp"

#include <algorithm>
#include <fmt/format.h>

#include "compose/cidr.hpp"

namespace authchain {

FailureThrottle::FailureThrottle(FailureThrottleOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
    if (options_.max_failures == 0) options_.max_failures = 1;
    if (options_.max_sources == 0) options_.max_sources = 1;
}

FailureThrottle::Entry& FailureThrottle::touch(const asio::ip::address& address) {
    auto key = address.to_string();
    auto it = table_.find(key);
    if (it != table_.end()) {
        order_.splice(order_.begin(), order_, it->second.order);
        return it->second;
    }
    if (table_.size() >= options_.max_sources) {
        table_.erase(order_.back().to_string());
        order_.pop_back();
    }
    order_.push_front(address);
    return table_.emplace(key, Entry{order_.begin(), {}, {}}).first->second;
}

bool FailureThrottle::blocked(const asio::ip::address& raw) {
    auto address = normalize(raw);
    std::lock_guard lock(mutex_);
    auto it = table_.find(address.to_string());
    return it != table_.end() && clock_() < it->second.blocked_until;
}

void FailureThrottle::record_failure(const asio::ip::address& raw) {
    auto address = normalize(raw);
    auto now = clock_();
    std::lock_guard lock(mutex_);
    Entry& e = touch(address);
    auto horizon = now - options_.window;
    std::erase_if(e.failures, [&](auto t) { return t <= horizon; });
    e.failures.push_back(now);
    if (e.failures.size() >= options_.max_failures) {
        e.blocked_until = now + options_.cooldown;
        e.failures.clear();
    }
}

void FailureThrottle::record_success(const asio::ip::address& raw) {
    auto address = normalize(raw);
    std::lock_guard lock(mutex_);
    auto it = table_.find(address.to_string());
    if (it != table_.end()) it->second.failures.clear();
}

std::size_t FailureThrottle::tracked() const {
    std::lock_guard lock(mutex_);
    return table_.size();
}

namespace {

asio::awaitable<Session> run_throttle(std::shared_ptr<FailureThrottle> table,
                                      std::shared_ptr<const Authenticator> inner, Session session) {
    auto address = session.stream.remote_endpoint().address();
    if (table->blocked(address))
        deny(DenyReason::host_blocked, fmt::format("{} is cooling down after repeated failures",
                                                   normalize(address).to_string()));
    session.credentials.note("failure_throttle", "not blocked");
    try {
        Session result = co_await (*inner)(std::move(session));
        table->record_success(address);
        co_return result;
    } catch (const AuthenticationError& e) {
        if (e.reason() != DenyReason::busy && e.reason() != DenyReason::host_blocked)
            table->record_failure(address);
        throw;
    } catch (...) {
        table->record_failure(address);
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
