#include <doctest/doctest.h>

#include "auth/failure_throttle.hpp"
#include "compose/combinators.hpp"
#include "tests/support/run.hpp"
#include "transport/pipe.hpp"

using namespace authchain;
using namespace std::chrono_literals;

namespace {

struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
    FailureThrottle::Clock fn() {
        return [this] { return now; };
    }
};

asio::ip::address ip(const char* s) { return asio::ip::make_address(s); }

}  // namespace

TEST_CASE("throttle table: blocks after max failures within the window, for the cool-down") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 3, .window = 60s, .cooldown = 300s}, clock.fn());
    t.record_failure(ip("10.0.0.1"));
    t.record_failure(ip("10.0.0.1"));
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));
    t.record_failure(ip("10.0.0.1"));
    CHECK(t.blocked(ip("10.0.0.1")));
    CHECK(t.blocked(ip("::ffff:10.0.0.1")));  // same source, mapped form
    CHECK_FALSE(t.blocked(ip("10.0.0.2")));
    clock.now += 299s;
    CHECK(t.blocked(ip("10.0.0.1")));
    clock.now += 2s;
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));
}

TEST_CASE("throttle table: failures older than the window do not count") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 3, .window = 60s, .cooldown = 300s}, clock.fn());
    t.record_failure(ip("10.0.0.1"));
    t.record_failure(ip("10.0.0.1"));
    clock.now += 61s;
    t.record_failure(ip("10.0.0.1"));
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));
}

TEST_CASE("throttle table: success clears the count") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 2}, clock.fn());
    t.record_failure(ip("10.0.0.1"));
    t.record_success(ip("10.0.0.1"));
    t.record_failure(ip("10.0.0.1"));
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));
}

TEST_CASE("throttle table: memory is bounded, the oldest source is evicted") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 2, .max_sources = 3}, clock.fn());
    t.record_failure(ip("10.0.0.1"));
    t.record_failure(ip("10.0.0.1"));
    CHECK(t.blocked(ip("10.0.0.1")));
    for (int i = 2; i <= 100; ++i) t.record_failure(ip(("10.0.1." + std::to_string(i)).c_str()));
    CHECK(t.tracked() == 3);
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));  // evicted
}

TEST_CASE("failure_throttle: a blocked source is refused without running the inner layers") {
    FakeClock clock;
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 2}, clock.fn());
    int inner_runs = 0;
    bool accept = false;
    Authenticator inner = [&](Session s) -> asio::awaitable<Session> {
        ++inner_runs;
        if (!accept) deny(DenyReason::denied, "wrong key");
        co_return s;
    };
    auto layer = failure_throttle(table, inner);
    auto attempt = [&]() -> std::optional<DenyReason> {
        return test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::optional<DenyReason>> {
            auto [c, s] = make_pipe(ex);
            try {
                co_await layer(start_session(std::move(s)));
                co_return std::nullopt;
            } catch (const AuthenticationError& e) {
                co_return e.reason();
            }
        });
    };
    CHECK(attempt() == DenyReason::denied);
    CHECK(attempt() == DenyReason::denied);
    CHECK(inner_runs == 2);
    accept = true;  // even the right key is refused during the cool-down
    CHECK(attempt() == DenyReason::host_blocked);
    CHECK(inner_runs == 2);
    clock.now += 301s;
    CHECK_FALSE(attempt());
    CHECK(inner_runs == 3);
}

TEST_CASE("failure_throttle: busy refusals do not count as failures; timeouts do") {
    FakeClock clock;
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 1}, clock.fn());
    DenyReason next = DenyReason::busy;
    Authenticator inner = [&](Session) -> asio::awaitable<Session> { deny(next, "inner"); };
    auto layer = failure_throttle(table, inner);
    auto attempt = [&] {
        try {
            test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
                auto [c, s] = make_pipe(ex);
                co_await layer(start_session(std::move(s)));
            });
        } catch (const AuthenticationError&) {
        }
    };
    attempt();
    CHECK_FALSE(table->blocked(ip("127.0.0.1")));
    next = DenyReason::timeout;
    attempt();
    CHECK(table->blocked(ip("127.0.0.1")));
}
