// The synchronous fast path (StreamImpl::try_read_some, try_write_some,
// output_pending, flush): on a TCP socket and on the secure channel, each
// moves bytes only when it need not wait and says so (nullopt) otherwise;
// records the secure channel could only partly hand to the stream below
// stay pending and go out first, in order, before anything written later.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <optional>
#include <string>
#include <system_error>

#include "tests/transport/channel_harness.hpp"
#include "tests/transport/io_harness.hpp"
#include <authchain/compose/buffer_pool.hpp>

using namespace authchain;
namespace ch = authchain::test::channel_harness;

namespace io = authchain::test::io_harness;

namespace fast_path_test {

std::optional<std::string> try_read(Stream& s, std::size_t size = 4096) {
    std::string buf(size, '\0');
    const std::optional<std::size_t> n = s.try_read_some(asio::buffer(buf));
    if (!n) return std::nullopt;
    buf.resize(*n);
    return buf;
}

// Secure channel sessions over a pipe whose client-to-server direction
// holds at most `capacity` bytes (the client's records enter it in pieces).
asio::awaitable<ch::Sessions> narrow_channel(ch::Executor ex, std::size_t capacity) {
    PipeOptions o;
    o.capacity = capacity;
    auto [c, s] = make_pipe(ex, o);
    co_return co_await ch::handshake(std::move(c), std::move(s));
}


TEST_CASE("fast path, tcp: nothing there is nullopt; what is there is taken; the end is 0, and read_some agrees") {
    asio::io_context ctx;
    auto [a, b] = io::tcp_pair(ctx);
    CHECK_FALSE(try_read(b).has_value());
    io::write_now(ctx, a, "ping");
    std::optional<std::string> got;
    for (int i = 0; i < 2000 && !got; ++i) {  // loopback delivers at once; bounded anyway
        got = try_read(b);
        if (!got) ctx.run_for(std::chrono::milliseconds(1));
    }
    CHECK(got == std::optional<std::string>("ping"));
    CHECK_FALSE(try_read(b).has_value());

    auto shut = io::start(ctx, a.shutdown_send());
    REQUIRE(io::run_until(ctx, shut));
    std::optional<std::string> end;
    for (int i = 0; i < 2000 && !end; ++i) {
        end = try_read(b);
        if (!end) ctx.run_for(std::chrono::milliseconds(1));
    }
    CHECK(end == std::optional<std::string>(""));
    CHECK(io::read_now(ctx, b, 16).empty());
}

TEST_CASE("fast path, tcp: try_write_some takes bytes until the buffers are full, then nullopt; every byte arrives in order") {
    asio::io_context ctx;
    auto [a, b] = io::small_buffer_pair(ctx);
    std::string sent;
    bool full = false;
    for (int i = 0; i < 1000 && !full; ++i) {
        const std::string piece(8192, static_cast<char>('a' + i % 26));
        const std::optional<std::size_t> n = a.try_write_some(asio::buffer(piece));
        if (!n) full = true;
        else sent += piece.substr(0, *n);
    }
    REQUIRE(full);
    CHECK(a.try_write_some(asio::const_buffer()) == std::optional<std::size_t>(0));
    std::string received;
    for (int i = 0; i < 10'000 && received.size() < sent.size(); ++i) received += io::read_now(ctx, b, 64 * 1024);
    CHECK(received == sent);
}

TEST_CASE("fast path, tcp: after a reset, try_read_some and try_write_some fail as their awaited forms do") {
    asio::io_context ctx;
    auto [a, b] = io::tcp_pair(ctx);
    io::write_now(ctx, b, "x");  // unread data makes abort() send an RST at once
    a.abort();
    bool read_failed = false;
    for (int i = 0; i < 2000 && !read_failed; ++i) {
        try {
            if (try_read(b) == std::optional<std::string>("")) FAIL("a reset read as a clean end");
            ctx.run_for(std::chrono::milliseconds(1));
        } catch (const std::system_error& e) {
            read_failed = true;
            CHECK(std::string(e.what()).find("tcp read") != std::string::npos);
        }
    }
    CHECK(read_failed);
    const std::string data(1000, 'y');
    CHECK_THROWS_WITH_AS(b.try_write_some(asio::buffer(data)), doctest::Contains("tcp write"), std::system_error);
}

TEST_CASE("fast path, secure channel: try_read_some returns a record only once it is whole") {
    test::run([](ch::Executor ex) -> asio::awaitable<void> {
        ch::Sessions p = co_await narrow_channel(ex, 10);
        Stream& client = p.client.stream;
        Stream& server = p.server.stream;
        CHECK_FALSE(try_read(server).has_value());
        const std::string message = "a record larger than the pipe holds";
        const std::optional<std::size_t> taken = client.try_write_some(asio::buffer(message));
        CHECK(taken == std::optional<std::size_t>(message.size()));  // all of it is taken...
        CHECK(client.output_pending());                              // ...and most of its record waits
        CHECK_FALSE(try_read(server).has_value());                   // 10 bytes of a record: nothing to return
        auto flush = [&client]() -> asio::awaitable<int> {  // named: it outlives the coroutine
            co_await client.flush();
            co_return 0;
        };
        auto flushed = ch::spawn(ex, flush());
        std::string got;
        for (int i = 0; i < 100'000 && got.size() < message.size(); ++i) {
            if (std::optional<std::string> piece = try_read(server)) got += *piece;
            co_await asio::post(ex, asio::use_awaitable);  // the flush moves the next 10 bytes
        }
        CHECK(got == message);
        co_await ch::result(flushed);
        CHECK_FALSE(client.output_pending());
    });
}

TEST_CASE("fast path, secure channel: records left pending go out before any later write, and before the close") {
    test::run([](ch::Executor ex) -> asio::awaitable<void> {
        ch::Sessions p = co_await narrow_channel(ex, 16);
        Stream& client = p.client.stream;
        auto reader = ch::spawn(ex, ch::read_all(p.server.stream));
        const Bytes first = ch::pattern(5000, 1), second = ch::pattern(7000, 2), third = ch::pattern(300, 3);
        const std::optional<std::size_t> taken = client.try_write_some(asio::buffer(first));
        REQUIRE(taken.has_value());
        CHECK(*taken == first.size());
        CHECK(client.output_pending());
        // Pending: the fast path takes nothing more.
        CHECK_FALSE(client.try_write_some(asio::buffer(second)).has_value());
        co_await write_all(client, asio::buffer(second));  // sends the pending records first
        CHECK_FALSE(client.output_pending());
        // Pending again, then the close: the close record goes last.
        const std::optional<std::size_t> again = client.try_write_some(asio::buffer(third));
        REQUIRE(again.has_value());
        CHECK(client.output_pending());
        co_await client.shutdown_send();
        Bytes expected = first;
        expected.insert(expected.end(), second.begin(), second.end());
        expected.insert(expected.end(), third.begin(), third.begin() + static_cast<std::ptrdiff_t>(*again));
        const Bytes got = co_await ch::result(reader);  // a clean end, not a truncation
        CHECK(got.size() == expected.size());
        CHECK(got == expected);
    });
}

TEST_CASE("fast path, secure channel: pending records whose reader is gone fail the flush, give their buffer back, and stop later writes") {
    test::run([](ch::Executor ex) -> asio::awaitable<void> {
        ch::Sessions p = co_await narrow_channel(ex, 16);
        Stream& client = p.client.stream;
        const std::size_t lent_before = buffer_pool_lent_bytes();
        const Bytes data = ch::pattern(3000, 4);
        REQUIRE(client.try_write_some(asio::buffer(data)).has_value());
        CHECK(client.output_pending());
        CHECK(buffer_pool_lent_bytes() > lent_before);  // the pending records
        p.server.stream.close();
        bool failed = false;
        try {
            co_await client.flush();
        } catch (const std::system_error&) {
            failed = true;
        }
        CHECK(failed);
        CHECK(buffer_pool_lent_bytes() == lent_before);
        CHECK_THROWS_WITH_AS(client.try_write_some(asio::buffer(data)), doctest::Contains("after an error"),
                             std::system_error);
    });
}

}  // namespace fast_path_test
