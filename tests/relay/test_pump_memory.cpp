// What the pump holds: no data buffer on an idle connection, and at most its
// bounds when one side never reads (plain pipes, and a secure channel on the
// side that never reads). Memory is counted as the bytes lent out by the
// buffer pools (compose/buffer_pool.hpp), sampled after every handler run.
//
//   client <-pipe1-> [a  pump  b] <-pipe2-> backend
#include <doctest/doctest.h>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <exception>
#include <memory>
#include <optional>

#include "tests/transport/channel_harness.hpp"
#include <authchain/compose/buffer_pool.hpp>
#include <authchain/relay/pump.hpp>
#include <authchain/transport/detail/secure_channel/secure_stream.hpp>
#include <authchain/transport/pipe.hpp>

using namespace authchain;

namespace {

// Runs `io` one handler at a time until nothing is ready (bounded), and
// returns the most bytes lent out by the pools after any handler.
std::size_t settle(asio::io_context& io) {
    std::size_t most = buffer_pool_lent_bytes();
    io.restart();
    for (int i = 0; i < 5'000'000 && io.poll_one() > 0; ++i) {
        most = std::max(most, buffer_pool_lent_bytes());
        io.restart();
    }
    REQUIRE(io.poll() == 0);
    return most;
}

// The outcome of a spawned operation, completed on the io_context's thread
// (a use_future completion may land on another thread, after a check).
template <class T>
struct Done {
    bool done = false;
    std::exception_ptr error;
    std::optional<T> value;
    T get() {
        if (error) std::rethrow_exception(error);
        return std::move(*value);
    }
};

template <class T>
std::shared_ptr<Done<T>> start(asio::io_context& io, asio::awaitable<T> op) {
    auto d = std::make_shared<Done<T>>();
    asio::co_spawn(io, std::move(op), [d](std::exception_ptr e, T v) {
        d->done = true;
        d->error = e;
        if (!e) d->value.emplace(std::move(v));
    });
    return d;
}

template <class T>
bool ready(const std::shared_ptr<Done<T>>& d) {
    return d->done;
}

asio::awaitable<int> handshake_into(Stream c, Stream s,
                                    std::optional<authchain::test::channel_harness::Sessions>& out) {
    out.emplace(co_await authchain::test::channel_harness::handshake(std::move(c), std::move(s)));
    co_return 0;
}

// Writes up to `total` bytes in 64 KiB pieces; `accepted` counts what went in.
asio::awaitable<void> flood(Stream& s, std::size_t total, std::size_t& accepted) {
    std::vector<std::uint8_t> chunk(64 * 1024, 0x5a);
    try {
        while (accepted < total)
            accepted += co_await s.write_some(asio::buffer(chunk.data(), std::min(chunk.size(), total - accepted)));
    } catch (const std::exception&) {
    }
}

asio::awaitable<std::size_t> read_count(Stream& s, std::size_t want) {
    std::vector<std::uint8_t> buf(10000);
    std::size_t got = 0;
    while (got < want) {
        std::size_t n = co_await s.read_some(asio::buffer(buf));
        if (n == 0) break;
        got += n;
    }
    co_return got;
}

}  // namespace

TEST_CASE("pump memory: an idle pump holds no data buffer; after bytes pass it gives the buffers back") {
    asio::io_context io;
    auto [client, a] = make_pipe(io.get_executor());
    auto [b, backend] = make_pipe(io.get_executor());
    const std::size_t lent_before = buffer_pool_lent_bytes();
    auto done = start(io, pump(a, b));
    CHECK(settle(io) == lent_before);  // both directions wait without a buffer

    const std::size_t n = 300 * 1000;
    std::size_t accepted = 0;
    asio::co_spawn(io, flood(client, n, accepted), asio::detached);
    auto got = start(io, read_count(backend, n));
    const std::size_t most = settle(io);
    REQUIRE(ready(got));
    CHECK(got->get() == n);
    CHECK(most <= lent_before + PumpOptions{}.buffer_size);  // one direction moved bytes
    CHECK(buffer_pool_lent_bytes() == lent_before);         // idle again: nothing held

    client.close();
    backend.close();
    settle(io);
    REQUIRE(ready(done));
    done->get();
}

TEST_CASE("pump memory: a client that never reads holds the backend back; the pump holds one buffer at most") {
    constexpr std::size_t capacity = 64 * 1024, total = 64 * 1024 * 1024;
    asio::io_context io;
    PipeOptions options;
    options.capacity = capacity;
    auto [client, a] = make_pipe(io.get_executor(), options);
    auto [b, backend] = make_pipe(io.get_executor(), options);
    const std::size_t lent_before = buffer_pool_lent_bytes();
    const PumpOptions pump_options{};
    auto done = start(io, pump(a, b, pump_options));
    std::size_t accepted = 0;
    asio::co_spawn(io, flood(backend, total, accepted), asio::detached);

    const std::size_t most = settle(io);  // the client never reads
    CHECK(most > lent_before);  // the blocked direction holds its buffer, a pooled one
    CHECK(most <= lent_before + pump_options.buffer_size);
    // What the backend got rid of sits in the two pipes and the one buffer.
    CHECK(accepted <= 2 * capacity + pump_options.buffer_size);
    CHECK(accepted >= capacity);
    CHECK_FALSE(ready(done));

    client.close();
    backend.close();
    settle(io);
    REQUIRE(ready(done));
    CHECK(done->get().error);
    CHECK(buffer_pool_lent_bytes() == lent_before);
}

TEST_CASE("pump memory: over a secure channel to a client that never reads, the bound holds too") {
    using namespace authchain::test::channel_harness;
    constexpr std::size_t capacity = 64 * 1024, total = 64 * 1024 * 1024;
    asio::io_context io;
    PipeOptions options;
    options.capacity = capacity;
    auto [client_raw, a_raw] = make_pipe(io.get_executor(), options);
    auto [b, backend] = make_pipe(io.get_executor(), options);
    std::optional<Sessions> sessions;
    auto hs = start(io, handshake_into(std::move(client_raw), std::move(a_raw), sessions));
    settle(io);
    REQUIRE(ready(hs));
    hs->get();
    Sessions& s = *sessions;
    Stream& client = s.client.stream;
    Stream& a = s.server.stream;

    const std::size_t lent_before = buffer_pool_lent_bytes();
    const PumpOptions pump_options{};
    auto done = start(io, pump(a, b, pump_options));
    CHECK(settle(io) == lent_before);  // idle: neither the pump nor the channel holds a buffer

    std::size_t accepted = 0;
    asio::co_spawn(io, flood(backend, total, accepted), asio::detached);
    const std::size_t most = settle(io);
    // The pump's buffer and one output batch of the channel, blocked on the pipe.
    CHECK(most <= lent_before + pump_options.buffer_size + channel::SecureStream::full_batch);
    CHECK(accepted <= 2 * capacity + pump_options.buffer_size + channel::SecureStream::full_batch);
    CHECK(accepted >= capacity);
    CHECK_FALSE(ready(done));

    client.close();
    backend.close();
    settle(io);
    REQUIRE(ready(done));
    CHECK(done->get().error);
    CHECK(buffer_pool_lent_bytes() == lent_before);
}
