// PasswordCheckPool: slots handed over in order of arrival, and one
// source's share of the places (DESIGN rule 9).
#include <doctest/doctest.h>

#include <asio/detached.hpp>

#include <authchain/auth/password/check_pool.hpp>
#include "tests/support/run.hpp"

using namespace authchain;

TEST_CASE("password check pool: one source holds at most its share; another source still gets a place") {
    PasswordCheckPool pool(1, 3);
    CHECK(pool.max_per_source() == 2);
    const auto a = asio::ip::make_address("10.0.0.1"), b = asio::ip::make_address("10.0.0.2");
    const auto a_mapped = asio::ip::make_address("::ffff:10.0.0.1");  // the same source
    auto held = pool.try_acquire(a);
    REQUIRE(held);
    std::vector<std::string> order;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto take_and_release = [&pool, &order](std::string name, asio::ip::address source) -> asio::awaitable<void> {
            auto slot = co_await pool.acquire(std::chrono::seconds(10), source);
            order.push_back(name + (slot ? " got" : " refused"));
        };
        asio::co_spawn(ex, take_and_release("a2", a), asio::detached);
        for (int i = 0; i < 200 && pool.waiting() < 1; ++i) co_await test::sleep_for(std::chrono::milliseconds(5));
        CHECK(pool.waiting() == 1);
        // a's share (the held slot and the waiting place) is used up: refused at once, not queued.
        auto third = co_await pool.acquire(std::chrono::seconds(10), a_mapped);
        CHECK_FALSE(third);
        CHECK_FALSE(pool.try_acquire(a));
        CHECK(pool.waiting() == 1);
        asio::co_spawn(ex, take_and_release("b", b), asio::detached);
        for (int i = 0; i < 200 && pool.waiting() < 2; ++i) co_await test::sleep_for(std::chrono::milliseconds(5));
        CHECK(pool.waiting() == 2);
        held.reset();  // handed to a2, then (released at once) to b
        for (int i = 0; i < 200 && order.size() < 2; ++i) co_await test::sleep_for(std::chrono::milliseconds(5));
    });
    CHECK(order == std::vector<std::string>{"a2 got", "b got"});
    CHECK(pool.in_use() == 0);
    CHECK(pool.waiting() == 0);
    CHECK(pool.try_acquire(a));  // every place given back
}

TEST_CASE("password check pool: a full queue refuses at once; a wait that ends gives its place back") {
    PasswordCheckPool pool(1, 1);
    auto held = pool.try_acquire();
    REQUIRE(held);
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto waits = [&pool](std::shared_ptr<bool> got) -> asio::awaitable<void> {
            auto slot = co_await pool.acquire(std::chrono::milliseconds(50));
            *got = slot.has_value();
        };
        auto first = std::make_shared<bool>(true);
        asio::co_spawn(ex, waits(first), asio::detached);
        for (int i = 0; i < 200 && pool.waiting() < 1; ++i) co_await test::sleep_for(std::chrono::milliseconds(5));
        auto second = co_await pool.acquire(std::chrono::seconds(10));
        CHECK_FALSE(second);  // the one waiting place is taken
        for (int i = 0; i < 400 && pool.waiting() > 0; ++i) co_await test::sleep_for(std::chrono::milliseconds(5));
        CHECK_FALSE(*first);  // its wait ended with the slot still held
    });
    CHECK(pool.waiting() == 0);
    CHECK(pool.in_use() == 1);
    held.reset();
    CHECK(pool.in_use() == 0);
    CHECK_THROWS_AS(PasswordCheckPool(0), std::invalid_argument);
    CHECK_THROWS_AS(PasswordCheckPool(65), std::invalid_argument);
}
