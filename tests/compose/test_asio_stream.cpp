// Stream as Asio's AsyncReadStream / AsyncWriteStream, over the in-memory pipe.
#include <doctest/doctest.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <optional>
#include <type_traits>

#include <authchain/compose/stream.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;

static_assert(std::is_same_v<Stream::executor_type, asio::any_io_executor>);

TEST_CASE("async_read_until with a streambuf reads lines a byte at a time from a Stream") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.server.faults.one_byte_at_a_time = true;
        auto [c, s] = make_pipe(ex, o);
        const std::string text = "first line\nsecond\n";
        co_await asio::async_write(c, asio::buffer(text), asio::use_awaitable);
        co_await c.shutdown_send();
        asio::streambuf lines;
        std::size_t n = co_await asio::async_read_until(s, lines, '\n', asio::use_awaitable);
        std::string first(asio::buffers_begin(lines.data()), asio::buffers_begin(lines.data()) + n);
        CHECK(first == "first line\n");
        lines.consume(n);
        n = co_await asio::async_read_until(s, lines, "\n", asio::use_awaitable);
        CHECK(n == 7);
        lines.consume(n);
        // At the end: asio::error::eof, as Asio's own sockets report it.
        auto [error, more] = co_await asio::async_read_until(s, lines, '\n',
                                                            asio::experimental::as_tuple(asio::use_awaitable));
        CHECK(error == asio::error::eof);
        CHECK(more == 0);
    });
}

TEST_CASE("async_read_until with a dynamic_buffer over a string, and async_read of an exact size") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        std::string big = test::pattern(300000, 7);  // more than the pipe holds: backpressure
        asio::co_spawn(ex, [&c = c, &big]() -> asio::awaitable<void> {
            const std::string head = "HEAD 6\r\n";
            co_await asio::async_write(c, asio::buffer(head), asio::use_awaitable);
            co_await asio::async_write(c, asio::buffer(big), asio::use_awaitable);
        }, asio::detached);
        std::string head;
        std::size_t n = co_await asio::async_read_until(s, asio::dynamic_buffer(head), "\r\n", asio::use_awaitable);
        CHECK(head.substr(0, n) == "HEAD 6\r\n");
        std::string body(big.size(), '\0');
        std::size_t already = head.size() - n;  // bytes read past the delimiter stay in `head`
        std::copy(head.begin() + static_cast<std::ptrdiff_t>(n), head.end(), body.begin());
        co_await asio::async_read(s, asio::buffer(body.data() + already, body.size() - already), asio::use_awaitable);
        CHECK(body == big);
    });
}

TEST_CASE("async_read_some completes a plain callback on the stream's executor; an empty buffer completes at once") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        std::optional<std::pair<std::error_code, std::size_t>> got, empty;
        char buf[16];
        s.async_read_some(asio::buffer(buf), [&](std::error_code e, std::size_t n) { got.emplace(e, n); });
        s.async_read_some(asio::mutable_buffer(), [&](std::error_code e, std::size_t n) { empty.emplace(e, n); });
        c.async_write_some(asio::buffer("abc", 3), [](std::error_code, std::size_t) {});
        for (int i = 0; i < 100 && !got; ++i) co_await test::sleep_for(std::chrono::milliseconds(1));
        REQUIRE(got);
        CHECK_FALSE(got->first);
        CHECK(got->second == 3);
        CHECK(std::string(buf, 3) == "abc");
        REQUIRE(empty);
        CHECK_FALSE(empty->first);
        CHECK(empty->second == 0);
    });
}

TEST_CASE("a transport failure reaches an Asio caller as an error code, not an exception") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        c.close();
        char buf[4];
        auto [error, n] = co_await s.async_read_some(asio::buffer(buf), asio::experimental::as_tuple(asio::use_awaitable));
        CHECK(error);
        CHECK(n == 0);
        auto [werror, wn] = co_await c.async_write_some(asio::buffer("x", 1),
                                                        asio::experimental::as_tuple(asio::use_awaitable));
        CHECK(werror);
        CHECK(wn == 0);
    });
}
