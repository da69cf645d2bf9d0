#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>

#include <authchain/compose/combinators.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace std::chrono_literals;

TEST_CASE("pipe: endpoints and protection are what the options say") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.client.endpoint = {asio::ip::make_address("::1"), 1234};
        o.server.protection = {.confidential = true, .channel_id = {1, 2, 3}};
        auto [c, s] = make_pipe(ex, o);
        CHECK(s.remote_endpoint().port() == 1234);
        CHECK(s.remote_endpoint().address().is_v6());
        CHECK(c.remote_endpoint().port() == 5000);
        CHECK(s.local_endpoint().port() == 5000);
        CHECK(c.local_endpoint().port() == 1234);
        CHECK(s.protection().confidential);
        CHECK(s.protection().channel_id == Bytes{1, 2, 3});
        CHECK_FALSE(c.protection().confidential);
        CHECK(c.protection().transport == "pipe");
        co_return;
    });
}

TEST_CASE("pipe: one byte at a time") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.server.faults.one_byte_at_a_time = true;
        auto [c, s] = make_pipe(ex, o);
        co_await write_all(c, asio::buffer(std::string("hello")));
        char buf[16];
        for (char expected : std::string("hello")) {
            CHECK(co_await s.read_some(asio::buffer(buf)) == 1);
            CHECK(buf[0] == expected);
        }
    });
}

TEST_CASE("pipe: truncate_after cuts the stream after N bytes") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.server.faults.truncate_after = 3;
        auto [c, s] = make_pipe(ex, o);
        co_await write_all(c, asio::buffer(std::string("abcdef")));
        char buf[16];
        std::string got;
        for (int i = 0; i < 10; ++i) {
            auto n = co_await s.read_some(asio::buffer(buf));
            if (n == 0) break;
            got.append(buf, n);
        }
        CHECK(got == "abc");
    });
}

TEST_CASE("pipe: stall_after holds the rest back until a deadline closes the stream") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.server.faults.stall_after = 2;
        auto [c, s] = make_pipe(ex, o);
        co_await write_all(c, asio::buffer(std::string("abcdef")));
        char buf[16];
        CHECK(co_await s.read_some(asio::buffer(buf)) == 2);
        asio::steady_timer t(ex, 30ms);
        t.async_wait([&s = s](std::error_code) { s.close(); });
        CHECK_THROWS_AS(co_await s.read_some(asio::buffer(buf)), std::system_error);
    });
}

TEST_CASE("pipe: capacity bounds what a writer can queue") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.capacity = 4;
        auto [c, s] = make_pipe(ex, o);
        CHECK(co_await c.write_some(asio::buffer(std::string("abcdefgh"))) == 4);
        bool done = false;
        asio::co_spawn(ex, [&c = c, &done]() -> asio::awaitable<void> {
            co_await c.write_some(asio::buffer(std::string("z")));
            done = true;
        }, asio::detached);
        asio::steady_timer t(ex, 10ms);
        co_await t.async_wait(asio::use_awaitable);
        CHECK_FALSE(done);  // blocked: the pipe is full
        char buf[4];
        co_await read_exact(s, asio::buffer(buf));
        t.expires_after(10ms);
        co_await t.async_wait(asio::use_awaitable);
        CHECK(done);
    });
}

TEST_CASE("pipe: half-close and close") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await write_all(c, asio::buffer(std::string("x")));
        co_await c.shutdown_send();
        char buf[4];
        CHECK(co_await s.read_some(asio::buffer(buf)) == 1);
        CHECK(co_await s.read_some(asio::buffer(buf)) == 0);
        // The other direction still works after a half-close.
        co_await write_all(s, asio::buffer(std::string("back")));
        co_await read_exact(c, asio::buffer(buf));
        CHECK(std::string_view(buf, 4) == "back");
        CHECK_THROWS_AS(co_await c.write_some(asio::buffer(std::string("more"))), std::system_error);
        s.close();
        CHECK(co_await c.read_some(asio::buffer(buf)) == 0);
        CHECK_THROWS_AS(co_await s.read_some(asio::buffer(buf)), std::system_error);
    });
}

TEST_CASE("pipe listener feeds accept") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener l(ex);
        Stream c = l.connect();
        Stream s = co_await l.accept();
        co_await write_all(c, asio::buffer(std::string("hi")));
        char buf[2];
        co_await read_exact(s, asio::buffer(buf));
        CHECK(std::string_view(buf, 2) == "hi");
        l.close();
        CHECK_THROWS_AS(co_await l.accept(), std::system_error);
    });
}
