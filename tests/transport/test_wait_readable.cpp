// Stream::wait_readable on every transport, and what an idle stream holds:
// a socket, the pipe and the secure channel wait without a buffer and wake
// for bytes, the end of the stream and close(); an idle secure channel
// gives its buffers back to the per-thread pool.
#include <doctest/doctest.h>

#include <asio/detached.hpp>
#include <exception>
#include <optional>

#include "tests/transport/channel_harness.hpp"
#include "tests/transport/io_harness.hpp"
#include <authchain/compose/buffer_pool.hpp>
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using namespace authchain::test::channel_harness;
using namespace authchain::test::io_harness;

namespace {

asio::awaitable<void> handshake_into(Stream c, Stream s, std::optional<Sessions>& out) {
    out.emplace(co_await handshake(std::move(c), std::move(s)));
}

// A secure channel over the in-memory pipe, handshake done: both sessions.
Sessions& open_channel(asio::io_context& io, std::optional<Sessions>& sessions) {
    auto [c, s] = make_pipe(io.get_executor());
    auto hs = start(io, handshake_into(std::move(c), std::move(s), sessions));
    REQUIRE(run_until(io, hs));
    hs->get();
    return *sessions;
}

Op spawn_wait(asio::io_context& io, Stream& s) { return start(io, s.wait_readable()); }

}  // namespace

TEST_CASE("wait_readable: a TCP stream waits for bytes, the end of stream, or close") {
    asio::io_context io;
    SUBCASE("bytes") {
        auto [a, b] = tcp_pair(io);
        auto waiting = spawn_wait(io, b);
        settle(io);
        CHECK_FALSE(ready(waiting));
        write_now(io, a, "hello");
        REQUIRE(run_until(io, waiting));
        waiting->get();
        // Nothing was consumed: it returns at once again, and read_some finds the bytes.
        auto again = spawn_wait(io, b);
        REQUIRE(run_until(io, again));
        again->get();
        char buf[16];
        auto n = spawn_read(io, b, asio::buffer(buf));
        REQUIRE(run_until(io, n));
        CHECK(std::string(buf, n->get()) == "hello");
        // Drained: it waits again.
        auto third = spawn_wait(io, b);
        settle(io);
        CHECK_FALSE(ready(third));
        b.close();
        REQUIRE(run_until(io, third));
        CHECK_THROWS_AS(third->get(), std::system_error);
    }
    SUBCASE("end of stream") {
        auto [a, b] = tcp_pair(io);
        auto waiting = spawn_wait(io, b);
        settle(io);
        CHECK_FALSE(ready(waiting));
        auto shut = start(io, a.shutdown_send());
        REQUIRE(run_until(io, shut));
        REQUIRE(run_until(io, waiting));
        waiting->get();
        char buf[4];
        auto n = spawn_read(io, b, asio::buffer(buf));
        REQUIRE(run_until(io, n));
        CHECK(n->get() == 0);
    }
}

TEST_CASE("wait_readable: a TCP stream reads a short message once and hands it out in order; a full first read is followed at once") {
    asio::io_context io;
    int fd = -1;
    auto [a, b] = tcp_pair(io, fd);
    SUBCASE("a short message, read in small pieces") {
        write_now(io, a, "hello world");
        REQUIRE(kernel_holds(fd, 11));
        auto waiting = spawn_wait(io, b);
        REQUIRE(run_until(io, waiting));
        waiting->get();
        CHECK(kernel_holds(fd, 0));  // the wait took the bytes: one recv, not a peek and a recv
        std::string got;
        for (int i = 0; i < 3; ++i) got += read_now(io, b, 4);
        CHECK(got == "hello world");
        auto idle = spawn_wait(io, b);  // drained: it waits again
        settle(io);
        CHECK_FALSE(ready(idle));
        write_now(io, a, "!");
        REQUIRE(run_until(io, idle));
        idle->get();
        CHECK(read_now(io, b, 8) == "!");
    }
    SUBCASE("bulk: the bytes past the first read come with the same read_some") {
        std::string data(4096, '\0');
        for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
        write_now(io, a, data);
        REQUIRE(kernel_holds(fd, 4096));
        auto waiting = spawn_wait(io, b);
        REQUIRE(run_until(io, waiting));
        waiting->get();
        CHECK(read_now(io, b, 65536) == data);  // 4,096 bytes: 128 at the wait, the rest at once
    }
    SUBCASE("bytes, then the end of the stream") {
        write_now(io, a, "bye");
        auto shut = start(io, a.shutdown_send());
        REQUIRE(run_until(io, shut));
        auto waiting = spawn_wait(io, b);
        REQUIRE(run_until(io, waiting));
        waiting->get();
        CHECK(read_now(io, b, 8) == "bye");
        CHECK(read_now(io, b, 8).empty());  // the end of stream
        CHECK(read_now(io, b, 8).empty());  // and again: a read after the end does not hang
    }
}

TEST_CASE("wait_readable: the pipe waits for bytes and the end of data, not past a stall") {
    asio::io_context io;
    PipeOptions options;
    options.server.faults.stall_after = 3;
    auto [client, server] = make_pipe(io.get_executor(), options);
    auto waiting = spawn_wait(io, server);
    settle(io);
    CHECK_FALSE(ready(waiting));
    write_now(io, client, "abcdef");
    REQUIRE(run_until(io, waiting));
    waiting->get();
    char buf[8];
    auto n = spawn_read(io, server, asio::buffer(buf));
    REQUIRE(run_until(io, n));
    CHECK(n->get() == 3);
    // Stalled after 3 bytes: bytes are there, but none may be read.
    auto stalled = spawn_wait(io, server);
    settle(io);
    CHECK_FALSE(ready(stalled));
    server.close();
    REQUIRE(run_until(io, stalled));
    CHECK_THROWS_AS(stalled->get(), std::system_error);

    auto [c2, s2] = make_pipe(io.get_executor());
    auto at_end = spawn_wait(io, s2);
    settle(io);
    CHECK_FALSE(ready(at_end));
    auto shut = start(io, c2.shutdown_send());
    REQUIRE(run_until(io, shut));
    REQUIRE(run_until(io, at_end));
    at_end->get();
}

TEST_CASE("wait_readable: a secure channel returns for a buffered record and gives its buffers back when idle") {
    asio::io_context io;
    std::optional<Sessions> sessions;
    Sessions& p = open_channel(io, sessions);
    settle(io);
    const std::size_t lent_idle = buffer_pool_lent_bytes();

    auto waiting = spawn_wait(io, p.server.stream);
    settle(io);
    CHECK_FALSE(ready(waiting));
    CHECK(buffer_pool_lent_bytes() == lent_idle);  // waiting holds no buffer

    // Two records (written separately); the wait returns, and a read the
    // size of the first takes it alone.
    write_now(io, p.client.stream, "first");
    write_now(io, p.client.stream, "second");
    CHECK(buffer_pool_lent_bytes() == lent_idle);  // the output batch went back after each write
    REQUIRE(run_until(io, waiting));
    waiting->get();
    char buf[64];
    auto one = spawn_read(io, p.server.stream, asio::buffer(buf, 5));
    REQUIRE(run_until(io, one));
    CHECK(std::string(buf, one->get()) == "first");
    CHECK(buffer_pool_lent_bytes() > lent_idle);  // the input buffer holds the second record
    // The second record is buffered: it returns at once, without the inner stream.
    auto buffered = spawn_wait(io, p.server.stream);
    REQUIRE(run_until(io, buffered));
    buffered->get();
    auto two = spawn_read(io, p.server.stream, asio::buffer(buf));
    REQUIRE(run_until(io, two));
    CHECK(std::string(buf, two->get()) == "second");
    // Drained: the input buffer is back in the pool, and the stream waits again.
    CHECK(buffer_pool_lent_bytes() == lent_idle);
    auto idle = spawn_wait(io, p.server.stream);
    settle(io);
    CHECK_FALSE(ready(idle));
    CHECK(buffer_pool_lent_bytes() == lent_idle);

    // The peer's close record wakes it; read_some then returns 0.
    auto shut = start(io, p.client.stream.shutdown_send());
    REQUIRE(run_until(io, shut));
    REQUIRE(run_until(io, idle));
    idle->get();
    auto end = spawn_read(io, p.server.stream, asio::buffer(buf));
    REQUIRE(run_until(io, end));
    CHECK(end->get() == 0);
}

TEST_CASE("buffer pool: a released buffer is reused for the same size; the lent count follows") {
    const std::size_t before = buffer_pool_lent_bytes();
    std::uint8_t* first = nullptr;
    {
        PooledBuffer a(12345);
        first = a.data();
        CHECK(a.size() == 12345);
        CHECK(buffer_pool_lent_bytes() == before + 12345);
        a.release();
        CHECK(a.empty());
        a.release();  // idempotent
        CHECK(buffer_pool_lent_bytes() == before);
    }
    PooledBuffer b(12345);
    CHECK(b.data() == first);
    PooledBuffer c(12345);  // the pool had one: a new one
    CHECK(c.data() != first);
    PooledBuffer moved = std::move(b);
    CHECK(b.empty());
    CHECK(moved.data() == first);
    CHECK(PooledBuffer(0).empty());
    moved.release();
    c.release();
    CHECK(buffer_pool_lent_bytes() == before);
    CHECK(buffer_pool_idle_bytes() <= buffer_pool_idle_limit);
}

TEST_CASE("async_wait_readable: the callback runs once, never inside the call, and also on close, with the error") {
    asio::io_context io;
    struct Seen {
        int calls = 0;
        bool in_call = false;      // async_wait_readable has not returned yet
        bool inline_call = false;  // the callback ran while it had not
        std::exception_ptr error;
    };
    auto wait = [](Stream& s, Seen& seen) {
        seen.in_call = true;
        s.async_wait_readable([&seen](std::exception_ptr e) {
            seen.inline_call = seen.inline_call || seen.in_call;
            ++seen.calls;
            seen.error = e;
        });
        seen.in_call = false;
    };
    SUBCASE("tcp: bytes, then a close while waiting") {
        auto [a, b] = tcp_pair(io);
        Seen first;
        wait(b, first);
        settle(io);
        CHECK(first.calls == 0);
        write_now(io, a, "x");
        settle(io);
        CHECK(first.calls == 1);
        CHECK_FALSE(first.error);
        // Bytes not read yet: ready at once, but still not inside the call.
        Seen again;
        wait(b, again);
        CHECK(again.calls == 0);
        settle(io);
        CHECK(again.calls == 1);
        CHECK(read_now(io, b, 8) == "x");
        Seen closed;
        wait(b, closed);
        settle(io);
        CHECK(closed.calls == 0);
        b.close();
        settle(io);
        CHECK(closed.calls == 1);
        CHECK(closed.error);
        CHECK_FALSE((first.inline_call || again.inline_call || closed.inline_call));
    }
    SUBCASE("secure channel: a buffered record is ready without the inner stream; a failed channel reports its failure") {
        std::optional<Sessions> sessions;
        Sessions& p = open_channel(io, sessions);
        write_now(io, p.client.stream, "one");
        write_now(io, p.client.stream, "two");
        Seen ready;
        wait(p.server.stream, ready);
        settle(io);
        CHECK(ready.calls == 1);
        CHECK(read_now(io, p.server.stream, 3) == "one");  // "two" stays buffered
        Seen buffered;
        wait(p.server.stream, buffered);
        CHECK(buffered.calls == 0);
        settle(io);
        CHECK(buffered.calls == 1);
        CHECK(read_now(io, p.server.stream, 8) == "two");
        Seen cut;
        wait(p.server.stream, cut);
        settle(io);
        CHECK(cut.calls == 0);
        p.server.stream.close();
        settle(io);
        CHECK(cut.calls == 1);
        CHECK(cut.error);
        CHECK_FALSE((ready.inline_call || buffered.inline_call || cut.inline_call));
    }
}
