#include <authchain/auth/connection_limit.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <memory>
#include <mutex>

#include <authchain/compose/cidr.hpp>

namespace authchain {

namespace {

struct Counter {
    std::size_t max;
    std::size_t per_source;
    std::mutex mutex;  // guards live and by_source
    std::size_t live = 0;
    std::map<asio::ip::address, std::size_t> by_source;  // sources holding a slot
};

// Releases its slot, once taken, when the connection's last stream is gone.
struct Slot {
    Slot(std::shared_ptr<Counter> c, asio::ip::address s) : counter(std::move(c)), source(std::move(s)) {}
    ~Slot() {
        if (!taken) return;
        std::lock_guard lock(counter->mutex);
        --counter->live;
        auto it = counter->by_source.find(source);
        if (it != counter->by_source.end() && --it->second == 0) counter->by_source.erase(it);
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    std::shared_ptr<Counter> counter;
    asio::ip::address source;
    bool taken = false;
};

asio::awaitable<Session> run_limit(std::shared_ptr<Counter> counter, Session session) {
    // Allocated before the slot is taken, so nothing can throw in between.
    auto slot = std::make_shared<Slot>(counter, source_of(session.stream.remote_endpoint().address()));
    std::size_t now = 0;
    {
        std::lock_guard lock(counter->mutex);
        now = counter->live;
        if (now >= counter->max) deny(DenyReason::busy, fmt::format("{} sessions already live", now));
        auto it = counter->by_source.find(slot->source);
        if (it != counter->by_source.end() && it->second >= counter->per_source)
            deny(DenyReason::busy, fmt::format("{} already holds its share of {} sessions",
                                               slot->source.to_string(), counter->per_source));
        ++counter->by_source[slot->source];
        ++counter->live;
        slot->taken = true;
    }
    session.stream.hold(std::move(slot));
    session.credentials.note("connection_limit", fmt::format("slot {}/{}", now + 1, counter->max));
    co_return session;
}

}  // namespace

Authenticator connection_limit(std::size_t max_sessions, std::size_t max_per_source) {
    auto counter = std::make_shared<Counter>();
    counter->max = max_sessions;
    counter->per_source = max_per_source != 0 ? max_per_source : std::max<std::size_t>(1, max_sessions / 2);
    return [counter](Session session) { return run_limit(counter, std::move(session)); };
}

}  // namespace authchain
