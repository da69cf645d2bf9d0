#include <doctest/doctest.h>

#include <authchain/auth/failure_throttle.hpp>

#include <algorithm>
#include <asio/steady_timer.hpp>
#include <authchain/compose/combinators.hpp>
#include "tests/support/address.hpp"
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace std::chrono_literals;

namespace {

using authchain::test::ip;
using authchain::test::sleep_for;

struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
    FailureThrottle::Clock fn() {
        return [this] { return now; };
    }
};

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

TEST_CASE("throttle table: a blocked source stays blocked while many other sources fail") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 2, .window = 60s, .cooldown = 300s, .max_sources = 3}, clock.fn());
    t.record_failure(ip("10.0.0.1"));
    t.record_failure(ip("10.0.0.1"));
    REQUIRE(t.blocked(ip("10.0.0.1")));
    t.record_failure(ip("10.0.0.9"));  // one failure: counted, not blocked yet
    for (int i = 2; i <= 10000; ++i) {
        t.record_failure(ip(("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256)).c_str()));
        if (i % 1000 == 0) clock.now += 2s;  // sweeps may run: nothing has expired
    }
    CHECK(t.tracked() <= 3);
    CHECK(t.blocked(ip("10.0.0.1")));
    t.record_failure(ip("10.0.0.9"));  // its first failure was not forgotten either
    CHECK(t.blocked(ip("10.0.0.9")));
    clock.now += 300s;  // every cool-down is over
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));
}

TEST_CASE("throttle table: the bound holds; new sources share one overflow entry while the table is live") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 3, .window = 60s, .cooldown = 300s, .max_sources = 4}, clock.fn());
    for (int i = 1; i <= 4; ++i) t.record_failure(ip(("10.0.0." + std::to_string(i)).c_str()));
    CHECK(t.tracked() == 4);
    // The table is full of live entries: three new sources fail once each,
    // and together they block every untracked source.
    t.record_failure(ip("10.0.1.1"));
    t.record_failure(ip("10.0.1.2"));
    CHECK_FALSE(t.blocked(ip("10.0.1.3")));
    t.record_failure(ip("10.0.1.3"));
    CHECK(t.tracked() == 4);
    CHECK(t.blocked(ip("10.0.1.99")));
    auto a = t.begin(ip("10.0.1.100"));
    CHECK(a.admission == FailureThrottle::Admission::blocked);
    CHECK_FALSE(t.blocked(ip("10.0.0.1")));  // tracked sources keep their own state
    // Once the tracked failures leave the window, new sources are tracked again.
    clock.now += 61s;
    auto b = t.begin(ip("10.0.1.100"));
    CHECK(b.admission == FailureThrottle::Admission::admitted);
    CHECK(t.tracked() == 1);
    t.finish(b, FailureThrottle::Verdict::success);
    CHECK(t.tracked() == 0);  // nothing live: forgotten at once
}

TEST_CASE("throttle table: an IPv6 source is its /64; a mapped address is its IPv4 address") {
    FakeClock clock;
    FailureThrottle t({.max_failures = 2}, clock.fn());
    t.record_failure(ip("2001:db8:0:7::1"));
    t.record_failure(ip("2001:db8:0:7:ffff::2"));
    CHECK(t.blocked(ip("2001:db8:0:7::99")));
    CHECK_FALSE(t.blocked(ip("2001:db8:0:8::1")));
    t.record_failure(ip("::ffff:192.0.2.1"));
    t.record_failure(ip("192.0.2.1"));
    CHECK(t.blocked(ip("192.0.2.1")));
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

namespace {


// Starts `n` attempts at once through `layer`, each from its own pipe; the
// inner layer waits for one byte from the client, then refuses (byte 'n')
// or passes (any other). Returns how many reached the inner layer and the
// verdicts of all.
struct Concurrent {
    int inner_runs = 0;
    std::vector<std::optional<DenyReason>> verdicts;
};

// One attempt through `layer`; its verdict (nullopt: passed) goes to `verdicts`.
asio::awaitable<void> one_attempt(const Authenticator& layer, Stream server_end,
                                  std::vector<std::optional<DenyReason>>& verdicts, int& done) {
    std::optional<DenyReason> verdict;
    try {
        co_await layer(start_session(std::move(server_end)));
    } catch (const AuthenticationError& e) {
        verdict = e.reason();
    }
    verdicts.push_back(verdict);
    ++done;
}

Concurrent concurrent_attempts(std::shared_ptr<FailureThrottle> table, int n, char answer) {
    Concurrent out;
    Authenticator inner = [&out](Session s) -> asio::awaitable<Session> {
        ++out.inner_runs;
        char b;
        co_await read_exact(s.stream, asio::buffer(&b, 1), "answer");
        if (b == 'n') deny(DenyReason::denied, "wrong answer");
        co_return s;
    };
    Authenticator layer = failure_throttle(table, inner);
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        std::vector<Stream> clients;
        int done = 0;
        for (int i = 0; i < n; ++i) {
            auto [c, s] = make_pipe(ex);
            clients.push_back(std::move(c));
            asio::co_spawn(ex, one_attempt(layer, std::move(s), out.verdicts, done), asio::detached);
        }
        co_await sleep_for(10ms);  // every attempt has reached the throttle
        for (auto& c : clients) {
            try {
                co_await write_all(c, asio::buffer(&answer, 1));
            } catch (const std::exception&) {
                // refused already: the server end is gone
            }
        }
        while (done < n) co_await sleep_for(1ms);
    });
    return out;
}

std::size_t count(const std::vector<std::optional<DenyReason>>& v, std::optional<DenyReason> r) {
    return static_cast<std::size_t>(std::count(v.begin(), v.end(), r));
}

}  // namespace

TEST_CASE("failure_throttle: of many concurrent attempts from one source, only max_failures run the inner layers") {
    FakeClock clock;
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 5}, clock.fn());
    auto out = concurrent_attempts(table, 100, 'n');
    CHECK(out.inner_runs == 5);
    CHECK(count(out.verdicts, DenyReason::denied) == 5);
    CHECK(count(out.verdicts, DenyReason::busy) == 95);
    CHECK(table->blocked(ip("127.0.0.1")));  // the five failures block the source
    // Busy refusals are not failures of their own: after the cool-down the
    // source has its full budget again.
    clock.now += 301s;
    auto again = concurrent_attempts(table, 5, 'y');
    CHECK(again.inner_runs == 5);
    CHECK(count(again.verdicts, std::nullopt) == 5);
}

TEST_CASE("failure_throttle: attempts in flight count until they succeed") {
    FakeClock clock;
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 3}, clock.fn());
    auto out = concurrent_attempts(table, 4, 'y');
    CHECK(out.inner_runs == 3);
    CHECK(count(out.verdicts, std::nullopt) == 3);
    CHECK(count(out.verdicts, DenyReason::busy) == 1);
    CHECK_FALSE(table->blocked(ip("127.0.0.1")));
    CHECK(table->tracked() == 0);  // all succeeded: nothing left to remember
}
