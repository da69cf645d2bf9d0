#include "auth/connection_limit.hpp"

#include <atomic>
#include <fmt/format.h>
#include <memory>

namespace authchain {

namespace {

struct Counter {
    std::size_t max;
    std::atomic<std::size_t> live{0};
};

// Releases one slot when the connection's last stream is gone.
struct Slot {
    explicit Slot(std::shared_ptr<Counter> c) : counter(std::move(c)) {}
    ~Slot() { --counter->live; }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    std::shared_ptr<Counter> counter;
};

asio::awaitable<Session> run_limit(std::shared_ptr<Counter> counter, Session session) {
    std::size_t now = counter->live.load();
    do {
        if (now >= counter->max) deny(DenyReason::busy, fmt::format("{} sessions already live", now));
    } while (!counter->live.compare_exchange_weak(now, now + 1));
    session.stream.hold(std::make_shared<Slot>(counter));
    session.credentials.note("connection_limit", fmt::format("slot {}/{}", now + 1, counter->max));
    co_return session;
}

}  // namespace

Authenticator connection_limit(std::size_t max_sessions) {
    auto counter = std::make_shared<Counter>();
    counter->max = max_sessions;
    return [counter](Session session) { return run_limit(counter, std::move(session)); };
}

}  // namespace authchain
