// The multiplexed channel over the in-memory pipe: streams both ways,
// half-close, reset, flow control, limits, batching, goaway, and what a
// peer that breaks the protocol gets (test_multiplex_loops.cpp: the gate
// and tunnel sides over loopback, on event loops).
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <array>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/run.hpp"
#include "tests/support/send_and_finish.hpp"
#include <authchain/compose/server.hpp>
#include <authchain/relay/forward.hpp>
#include <authchain/relay/multiplex.hpp>
#include <authchain/relay/multiplex/frame.hpp>
#include <authchain/relay/multiplex/multiplexer.hpp>
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/tcp.hpp>

namespace multiplex_test {

using authchain::Bytes;
using authchain::ByteView;
using authchain::Stream;
using authchain::test::pattern;
using authchain::test::read_to_end;
using authchain::test::send_and_finish;
using authchain::test::sleep_for;
namespace mux = authchain::mux;

using Mux = std::shared_ptr<mux::Multiplexer>;

// A client and a server Multiplexer over one pipe, both started.
asio::awaitable<std::pair<Mux, Mux>> started_pair(asio::any_io_executor ex, mux::SessionOptions client = {},
                                                 mux::SessionOptions server = {}) {
    auto [a, b] = authchain::make_pipe(ex);
    auto c = mux::Multiplexer::create(std::move(a), mux::Role::client, client);
    auto s = mux::Multiplexer::create(std::move(b), mux::Role::server, server);
    bool server_started = false;
    asio::co_spawn(ex, [s, &server_started]() -> asio::awaitable<void> {
        co_await s->start();
        server_started = true;
    }, asio::detached);
    co_await c->start();
    for (int i = 0; i < 100 && !server_started; ++i) co_await sleep_for(std::chrono::milliseconds(1));
    REQUIRE(server_started);
    co_return std::pair{c, s};
}

// Reads until end of stream and returns the error text if the read threw.
asio::awaitable<std::string> read_error(Stream& stream) {
    try {
        (void)co_await read_to_end(stream);
    } catch (const std::system_error& e) {
        co_return e.what();
    }
    co_return "";
}

asio::awaitable<void> echo(Stream s) {
    const std::string got = co_await read_to_end(s);
    co_await send_and_finish(s, got);
    s.close();
}

TEST_CASE("multiplex: streams carry bytes both ways, each its own, with half-close") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = co_await started_pair(ex);
        // The server echoes every stream.
        asio::co_spawn(ex, [s = s, ex]() -> asio::awaitable<void> {
            while (std::optional<Stream> stream = co_await s->accept()) asio::co_spawn(ex, echo(std::move(*stream)), asio::detached);
        }, asio::detached);
        std::vector<std::string> got(8);
        int finished = 0;
        for (int i = 0; i < 8; ++i) {
            asio::co_spawn(ex, [&, i, c = c]() -> asio::awaitable<void> {
                Stream stream = *c->open();
                // Sizes around the frame size and the window.
                const std::string out = pattern(std::size_t{1} << (i * 2 + 4), static_cast<unsigned>(i));
                co_await send_and_finish(stream, out);
                got[static_cast<std::size_t>(i)] = co_await read_to_end(stream);
                CHECK(got[static_cast<std::size_t>(i)] == out);
                stream.close();
                ++finished;
            }, asio::detached);
        }
        for (int i = 0; i < 2000 && finished < 8; ++i) co_await sleep_for(std::chrono::milliseconds(1));
        CHECK(finished == 8);
        CHECK(s->streams_opened() == 8);
        CHECK(c->open_streams() == 0);
        CHECK(s->open_streams() == 0);
        CHECK(c->alive());
        c->close();
    });
}

TEST_CASE("multiplex: a stream closed before it finished is reset on the other side, the channel goes on") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = co_await started_pair(ex);
        Stream a = *c->open();
        co_await authchain::write_all(a, asio::buffer(std::string("half a request")));
        std::optional<Stream> b = co_await s->accept();
        REQUIRE(b);
        char buf[64];
        CHECK(co_await b->read_some(asio::buffer(buf)) == 14);
        a.close();  // no fin: a cut-off request
        const std::string error = co_await read_error(*b);
        CHECK(error.find("reset by the peer (aborted)") != std::string::npos);
        // The channel still carries new streams.
        Stream again = *c->open();
        co_await send_and_finish(again, "x");
        std::optional<Stream> next = co_await s->accept();
        REQUIRE(next);
        CHECK(co_await read_to_end(*next) == "x");
        c->close();
    });
}

TEST_CASE("multiplex: a writer waits once the window is used; the reader's buffer never exceeds the window") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        mux::SessionOptions small{.window = 16 * 1024};
        auto [c, s] = co_await started_pair(ex, {}, small);
        Stream a = *c->open();
        std::optional<Stream> b = co_await s->accept();
        REQUIRE(b);
        const std::string big = pattern(1024 * 1024, 7);
        std::size_t written = 0;
        bool writer_done = false;
        asio::co_spawn(ex, [&]() -> asio::awaitable<void> {
            co_await send_and_finish(a, big);
            written = big.size();
            writer_done = true;
        }, asio::detached);
        co_await sleep_for(std::chrono::milliseconds(50));
        // Nothing read on b: the writer is stuck within one window.
        CHECK_FALSE(writer_done);
        auto taken = a.try_write_some(asio::buffer("y", 1));
        CHECK_FALSE(taken.has_value());
        // Now read it all.
        const std::string got = co_await read_to_end(*b);
        CHECK(got == big);
        for (int i = 0; i < 100 && !writer_done; ++i) co_await sleep_for(std::chrono::milliseconds(1));
        CHECK(writer_done);
        CHECK(written == big.size());
        c->close();
    });
}

TEST_CASE("multiplex: the server resets streams past its max_streams as refused; the client counts them") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        mux::SessionOptions two{.max_streams = 2};
        auto [c, s] = co_await started_pair(ex, {}, two);
        Stream a = *c->open();
        Stream b = *c->open();
        // The client knows the server's limit: no third stream from open().
        CHECK_FALSE(c->can_open());
        CHECK_FALSE(c->open().has_value());
        std::optional<Stream> sa = co_await s->accept();
        std::optional<Stream> sb = co_await s->accept();
        REQUIRE(sa);
        REQUIRE(sb);
        // a finishes cleanly both ways and the client closes it; the server
        // has not closed its end yet, so it still counts two streams.
        co_await send_and_finish(a, "");
        co_await send_and_finish(*sa, "");
        CHECK(co_await read_to_end(a) == "");
        a.close();
        CHECK(c->can_open());
        Stream d = *c->open();
        const std::string error = co_await read_error(d);
        CHECK(error.find("reset by the peer (refused)") != std::string::npos);
        CHECK(s->open_streams() == 2);
        // Once the server closes its end, a new stream gets through.
        sa->close();
        Stream e = *c->open();
        co_await send_and_finish(e, "e");
        std::optional<Stream> se = co_await s->accept();
        REQUIRE(se);
        CHECK(co_await read_to_end(*se) == "e");
        c->close();
    });
}

TEST_CASE("multiplex: the end of the channel ends every stream, and accept() says so") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = co_await started_pair(ex);
        Stream a = *c->open();
        std::optional<Stream> b = co_await s->accept();
        REQUIRE(b);
        c->close();
        const std::string error = co_await read_error(*b);
        CHECK(error.find("multiplex channel ended") != std::string::npos);
        CHECK_FALSE(co_await s->accept());
        CHECK_FALSE(s->alive());
        CHECK(s->end_reason() == "end of stream");
        CHECK_THROWS_AS(co_await authchain::write_all(a, asio::buffer("z", 1)), std::system_error);
    });
}

TEST_CASE("multiplex: data a stream received before the channel ended with its fin is still read whole") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = co_await started_pair(ex);
        Stream a = *c->open();
        std::optional<Stream> b = co_await s->accept();
        REQUIRE(b);
        co_await send_and_finish(*b, "the whole reply");
        co_await sleep_for(std::chrono::milliseconds(10));
        s->close();
        CHECK(co_await read_to_end(a) == "the whole reply");
    });
}

// A raw peer: the test writes frames itself on the pipe's other end.
struct RawPeer {
    Mux mux;
    Stream raw;
};

asio::awaitable<RawPeer> raw_peer(asio::any_io_executor ex, mux::Role role, bool send_hello = true,
                                  mux::SessionOptions options = {.window = 16 * 1024}) {
    auto [a, b] = authchain::make_pipe(ex);
    auto m = mux::Multiplexer::create(std::move(a), role, options);
    if (send_hello) {
        Bytes hello;
        mux::encode_hello(hello, mux::Hello{.max_streams = 4, .window = 16 * 1024});
        co_await authchain::write_all(b, asio::buffer(hello));
    }
    co_return RawPeer{std::move(m), std::move(b)};
}

asio::awaitable<std::string> ended_by(asio::any_io_executor ex, mux::Role role, Bytes frames) {
    RawPeer p = co_await raw_peer(ex, role);
    co_await p.mux->start();
    co_await authchain::write_all(p.raw, asio::buffer(frames));
    for (int i = 0; i < 200 && p.mux->alive(); ++i) co_await sleep_for(std::chrono::milliseconds(1));
    CHECK_FALSE(p.mux->alive());
    co_return p.mux->end_reason();
}

TEST_CASE("multiplex: a peer that breaks the protocol ends the channel with a protocol error") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        Bytes f;
        SUBCASE("data past the window") {
            mux::encode_open(f, 1);
            const std::string big = pattern(16 * 1024, 3);
            mux::encode_data(f, 1, ByteView(reinterpret_cast<const std::uint8_t*>(big.data()), big.size()));
            mux::encode_data(f, 1, ByteView(reinterpret_cast<const std::uint8_t*>("!"), 1));
            CHECK(co_await ended_by(ex, mux::Role::server, f) == "protocol error: stream 1 sent 1 bytes past its window of 0");
        }
        SUBCASE("data for a stream never opened") {
            mux::encode_data(f, 5, ByteView(reinterpret_cast<const std::uint8_t*>("!"), 1));
            CHECK(co_await ended_by(ex, mux::Role::server, f) ==
                  "protocol error: data frame for stream 5, which was never opened");
        }
        SUBCASE("ids that do not increase") {
            mux::encode_open(f, 3);
            mux::encode_open(f, 2);
            CHECK(co_await ended_by(ex, mux::Role::server, f) == "protocol error: stream id 2 not above the last one (3)");
        }
        SUBCASE("an open frame from the server") {
            mux::encode_open(f, 1);
            CHECK(co_await ended_by(ex, mux::Role::client, f) == "protocol error: an open frame from the server");
        }
        SUBCASE("a second hello") {
            mux::encode_hello(f, mux::Hello{.max_streams = 1, .window = 16 * 1024});
            CHECK(co_await ended_by(ex, mux::Role::server, f) == "protocol error: a second hello");
        }
        SUBCASE("data after fin") {
            mux::encode_open(f, 1);
            mux::encode_fin(f, 1);
            mux::encode_data(f, 1, ByteView(reinterpret_cast<const std::uint8_t*>("!"), 1));
            CHECK(co_await ended_by(ex, mux::Role::server, f) == "protocol error: data after fin on stream 1");
        }
        SUBCASE("a window grown past 2^31-1") {
            mux::encode_open(f, 1);
            mux::encode_window(f, 1, mux::max_window_limit);
            CHECK(co_await ended_by(ex, mux::Role::server, f) == "protocol error: window of stream 1 grown past 2^31-1");
        }
        SUBCASE("a goaway from the client") {
            mux::encode_goaway(f);
            CHECK(co_await ended_by(ex, mux::Role::server, f) == "protocol error: a goaway frame from the client");
        }
        SUBCASE("a frame the codec refuses") {
            f = {9, 0, 0, 0, 1, 0, 0};
            const std::string reason = co_await ended_by(ex, mux::Role::server, f);
            CHECK(reason.starts_with("protocol error: multiplex: unknown frame type 9"));
        }
    });
}

TEST_CASE("multiplex: a peer that does not speak the protocol, or sends no hello, fails start()") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        {
            RawPeer p = co_await raw_peer(ex, mux::Role::client, false);
            co_await authchain::write_all(p.raw, asio::buffer(std::string("-ERR unknown command\r\n")));
            std::string what;
            try {
                co_await p.mux->start();
            } catch (const mux::FrameError& e) {
                what = e.what();
            }
            CHECK(what.starts_with("not a multiplexing peer (multiplex must be on at both ends): "));
            CHECK_FALSE(p.mux->alive());
        }
        {
            auto [a, b] = authchain::make_pipe(ex);
            auto m = mux::Multiplexer::create(std::move(a), mux::Role::client,
                                              {.hello_timeout = std::chrono::milliseconds(20)});
            std::string what;
            try {
                co_await m->start();
            } catch (const std::system_error& e) {
                what = e.what();
            }
            CHECK(what.find("no multiplex hello from the peer in time") != std::string::npos);
        }
    });
}

TEST_CASE("multiplex: what many streams write in one turn of the loop leaves in one write on the channel") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = co_await started_pair(ex);
        std::vector<Stream> streams;
        for (int i = 0; i < 50; ++i) streams.push_back(*c->open());
        co_await sleep_for(std::chrono::milliseconds(5));
        std::vector<Stream> accepted;
        for (int i = 0; i < 50; ++i) accepted.push_back(*co_await s->accept());
        // 50 requests in one turn: each try_write_some takes its bytes at once.
        for (auto& stream : streams) CHECK(stream.try_write_some(asio::buffer("PING\r\n", 6)) == 6u);
        co_await sleep_for(std::chrono::milliseconds(5));
        char buf[16];
        for (auto& stream : accepted) CHECK(stream.try_read_some(asio::buffer(buf)) == 6u);
        c->close();
    });
}

TEST_CASE("multiplex: after the server's goaway the client opens no stream there; the open ones finish, then the "
          "channel closes cleanly") {
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = co_await started_pair(ex);
        Stream a = *c->open();
        std::optional<Stream> sa = co_await s->accept();
        REQUIRE(sa);
        s->go_away();
        for (int i = 0; i < 100 && c->can_open(); ++i) co_await sleep_for(std::chrono::milliseconds(1));
        CHECK_FALSE(c->can_open());
        CHECK(c->alive());
        // The open stream still works both ways.
        co_await send_and_finish(a, "request");
        CHECK(co_await read_to_end(*sa) == "request");
        co_await send_and_finish(*sa, "reply");
        CHECK(co_await read_to_end(a) == "reply");
        a.close();
        sa->close();
        for (int i = 0; i < 100 && s->alive(); ++i) co_await sleep_for(std::chrono::milliseconds(1));
        CHECK_FALSE(c->alive());
        CHECK_FALSE(s->alive());
        CHECK(s->end_reason() == "end of stream");  // the client's close record, then its end
    });
}

// The window increments `raw` received from the multiplexer (window frames
// for stream 1), waiting up to a second for `count` of them.
asio::awaitable<std::vector<std::uint32_t>> window_frames(Stream& raw, std::size_t count, Bytes& input) {
    std::vector<std::uint32_t> increments;
    std::array<std::uint8_t, 4096> chunk{};
    for (int round = 0; round < 1000 && increments.size() < count; ++round) {
        while (auto decoded = mux::decode_frame(input)) {
            if (decoded->first.type == mux::FrameType::window && decoded->first.stream == 1)
                increments.push_back(decoded->first.increment);
            input.erase(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(decoded->second));
        }
        if (increments.size() >= count) break;
        if (auto n = raw.try_read_some(asio::buffer(chunk)); n && *n > 0)
            input.insert(input.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(*n));
        else
            co_await sleep_for(std::chrono::milliseconds(1));
    }
    co_return increments;
}

// A server Multiplexer with `options`, the raw client on the pipe, and the
// stream 1 that the client opened, accepted.
struct RawClientStream {
    Mux server;
    Stream raw;
    Stream stream;
};

asio::awaitable<RawClientStream> raw_client_stream(asio::any_io_executor ex, mux::SessionOptions options) {
    RawPeer p = co_await raw_peer(ex, mux::Role::server, true, options);
    co_await p.mux->start();
    Bytes open;
    mux::encode_open(open, 1);
    co_await authchain::write_all(p.raw, asio::buffer(open));
    std::optional<Stream> stream = co_await p.mux->accept();
    REQUIRE(stream);
    co_return RawClientStream{p.mux, std::move(p.raw), std::move(*stream)};
}

asio::awaitable<void> send_data(Stream& raw, std::size_t size) {
    const std::string data = pattern(size, 5);
    Bytes frames;
    for (std::size_t at = 0; at < size; at += mux::max_data) {
        const std::size_t n = std::min(mux::max_data, size - at);
        mux::encode_data(frames, 1, ByteView(reinterpret_cast<const std::uint8_t*>(data.data()) + at, n));
    }
    co_await authchain::write_all(raw, asio::buffer(frames));
}

TEST_CASE("multiplex: a stream whose reader keeps up gets its window doubled, up to max_window and the budget") {
    // The test plays the client with raw frames; the server's window starts
    // at 16 KiB. Each time its reader has taken half the window and nothing
    // is left buffered, the credit comes back with the window doubled.
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        constexpr std::uint32_t k16 = 16 * 1024;
        mux::SessionOptions options{.window = k16, .max_window = 4 * k16, .window_growth_budget = 1 << 20};
        std::vector<std::uint32_t> expected;
        SUBCASE("doubling up to max_window, then the bytes taken only") {
            expected = {k16 / 2 + k16, k16 + 2 * k16, 2 * k16};
        }
        SUBCASE("the channel's budget caps the growth") {
            options.window_growth_budget = k16 + k16 / 2;
            expected = {k16 / 2 + k16, k16 + k16 / 2, k16 + k16 / 4};
        }
        SUBCASE("no growth above window when max_window is not above it") {
            options.max_window = k16;
            expected = {k16 / 2, k16 / 2, k16 / 2};
        }
        auto [server, b, stream] = co_await raw_client_stream(ex, options);
        Bytes input;
        std::uint32_t window = k16;  // what the raw client may still send
        for (std::size_t i = 0; i < expected.size(); ++i) {
            CAPTURE(i);
            // Half the window, all of it read at once: the reader keeps up.
            const std::size_t half = window / 2;
            co_await send_data(b, half);
            window -= static_cast<std::uint32_t>(half);
            std::vector<std::uint8_t> got(half);
            co_await authchain::read_exact(stream, asio::buffer(got));
            const std::vector<std::uint32_t> increments = co_await window_frames(b, 1, input);
            REQUIRE(increments.size() == 1);
            CHECK(increments[0] == expected[i]);
            window += increments[0];
        }
        // The whole grown window may be in flight at once; one byte more breaks the channel.
        co_await send_data(b, window);
        co_await sleep_for(std::chrono::milliseconds(20));
        CHECK(server->alive());
        co_await send_data(b, 1);
        for (int i = 0; i < 200 && server->alive(); ++i) co_await sleep_for(std::chrono::milliseconds(1));
        CHECK_FALSE(server->alive());
        CHECK(server->end_reason().find("past its window of 0") != std::string::npos);
    });
}

TEST_CASE("multiplex: a stream whose reader lags keeps its window") {
    // Half the window taken while more is still buffered: the reader, not
    // the window, is the limit, so the credit comes back as it is.
    authchain::test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        constexpr std::uint32_t k16 = 16 * 1024;
        auto [server, b, stream] = co_await raw_client_stream(ex, {.window = k16, .max_window = 4 * k16});
        co_await send_data(b, k16);  // the whole window
        co_await sleep_for(std::chrono::milliseconds(20));
        std::vector<std::uint8_t> got(k16 / 2);
        co_await authchain::read_exact(stream, asio::buffer(got));
        Bytes input;
        const std::vector<std::uint32_t> increments = co_await window_frames(b, 1, input);
        REQUIRE(increments.size() == 1);
        CHECK(increments[0] == k16 / 2);
        server->close();
    });
}

TEST_CASE("multiplex: options out of range are refused") {
    CHECK_THROWS_AS(mux::validate({.max_streams = 0}), std::invalid_argument);
    CHECK_THROWS_AS(mux::validate({.max_streams = mux::max_streams_limit + 1}), std::invalid_argument);
    CHECK_THROWS_AS(mux::validate({.window = mux::min_initial_window - 1}), std::invalid_argument);
    CHECK_THROWS_AS(mux::validate({.window = mux::max_initial_window + 1}), std::invalid_argument);
    CHECK_THROWS_AS(mux::validate({.max_window = mux::max_window_limit + 1}), std::invalid_argument);
    CHECK_THROWS_AS(mux::validate({.output_limit = 100}), std::invalid_argument);
    CHECK_NOTHROW(mux::validate({}));
}

}  // namespace multiplex_test
