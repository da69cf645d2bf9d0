#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <memory>

#include <authchain/compose/deadline.hpp>
#include "tests/support/run.hpp"

using namespace authchain;
using namespace std::chrono_literals;

namespace {

using authchain::test::sleep_for;


}  // namespace

TEST_CASE("Deadline: fires once, on the executor, after the limit") {
    int fired = 0;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        Deadline deadline(ex, 10ms, [&] { ++fired; });
        CHECK(fired == 0);  // never inline
        CHECK_FALSE(deadline.expired());
        co_await sleep_for(60ms);
        CHECK(fired == 1);
        CHECK(deadline.expired());
        deadline.cancel();  // after expiry: no effect
        co_await sleep_for(20ms);
        CHECK(fired == 1);
        CHECK(deadline.expired());
    });
    CHECK(fired == 1);
}

TEST_CASE("Deadline: cancel before the limit prevents the callback; cancel is idempotent") {
    int fired = 0;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        Deadline deadline(ex, 20ms, [&] { ++fired; });
        deadline.cancel();
        deadline.cancel();
        co_await sleep_for(60ms);
        CHECK_FALSE(deadline.expired());
    });
    CHECK(fired == 0);
}

TEST_CASE("Deadline: destruction before expiry is safe and disarms it") {
    int fired = 0;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        {
            // The callback owns something that must go with the Deadline.
            auto owned = std::make_shared<int>(7);
            std::weak_ptr<int> watch = owned;
            {
                Deadline deadline(ex, 10ms, [&fired, owned] { fired += *owned; });
                owned.reset();
                CHECK_FALSE(watch.expired());  // held by the armed Deadline
            }
            co_await sleep_for(40ms);
            CHECK(watch.expired());  // released, not leaked by the timer's handler
        }
        // Many short-lived Deadlines in a row, each destroyed before its limit.
        for (int i = 0; i < 100; ++i) Deadline d(ex, 1ms, [&] { ++fired; });
        co_await sleep_for(30ms);
    });
    CHECK(fired == 0);
}

TEST_CASE("Deadline: a zero limit still fires asynchronously, exactly once") {
    int fired = 0;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        Deadline deadline(ex, 0ms, [&] { ++fired; });
        CHECK(fired == 0);
        co_await sleep_for(10ms);
        CHECK(fired == 1);
    });
    CHECK(fired == 1);
}
