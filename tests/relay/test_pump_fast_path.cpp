// The pump's fast path (Relay::copy_now): messages copied without a
// coroutine, and the hand-over to the awaited path when a destination
// takes only part of a write, or takes it but keeps records pending (a
// secure channel on a full pipe). Every byte arrives once, in order, and
// the summary counts what was written. (A fast read that fails:
// test_pump.cpp.)
//
//   client <=secure pipe=> [a  pump  b] <=secure pipe=> backend
#include <doctest/doctest.h>

#include <array>
#include <optional>
#include <string>
#include <system_error>
#include <tuple>

#include "tests/transport/channel_harness.hpp"
#include <authchain/compose/buffer_pool.hpp>
#include <authchain/relay/pump.hpp>

using namespace authchain;
namespace ch = authchain::test::channel_harness;

namespace pump_fast_path {

// The four ends; over secure channels or plain pipes.
struct Rig {
    ch::Sessions front;  // client <-> a
    ch::Sessions back;   // b <-> backend
    Stream& client() { return front.client.stream; }
    Stream& a() { return front.server.stream; }
    Stream& b() { return back.client.stream; }
    Stream& backend() { return back.server.stream; }
};

// The same shape over plain pipes (no channel): the pump's ends are the pipes.
Rig plain_rig(ch::Executor ex, const PipeOptions& front, const PipeOptions& back) {
    auto [client, a] = make_pipe(ex, front);
    auto [b, backend] = make_pipe(ex, back);
    Rig r;
    r.front.client.stream = std::move(client);
    r.front.server.stream = std::move(a);
    r.back.client.stream = std::move(b);
    r.back.server.stream = std::move(backend);
    return r;
}

// The pipe between client and a holds 64 KiB each way, the one between b
// and backend `back_capacity` bytes: the pump reads whole messages (and
// records) from a, and its writes to b fill that pipe. (From the backend,
// records arrive in pieces: the fast path finds nothing whole and the
// awaited path reads on.)
asio::awaitable<Rig> make_rig(ch::Executor ex, std::size_t back_capacity, bool secure) {
    PipeOptions wide, narrow;
    wide.capacity = 64 * 1024;
    narrow.capacity = back_capacity;
    if (!secure) co_return plain_rig(ex, wide, narrow);
    auto [client, a] = make_pipe(ex, wide);
    auto [b, backend] = make_pipe(ex, narrow);
    ch::Sessions front = co_await ch::handshake(std::move(client), std::move(a));
    ch::Sessions back = co_await ch::handshake(std::move(b), std::move(backend));
    co_return Rig{std::move(front), std::move(back)};
}

TEST_CASE("pump fast path: to a pipe of 100 bytes, partial and pending writes lose nothing and are counted once") {
    for (const bool secure : {true, false}) {
        CAPTURE(secure);
        const Bytes up = ch::pattern(300'000, 11), down = ch::pattern(200'000, 12);
        const std::size_t lent_before = buffer_pool_lent_bytes();
        auto [summary, at_backend, at_client] = test::run([&](ch::Executor ex) -> asio::awaitable<
                                                              std::tuple<PumpSummary, Bytes, Bytes>> {
            // Plain pipes take part of a write; a secure channel takes all of
            // it and keeps records pending.
            Rig r = co_await make_rig(ex, 100, secure);
            auto backend_reads = ch::spawn(ex, ch::read_all(r.backend()));
            auto client_reads = ch::spawn(ex, ch::read_all(r.client()));
            auto backend_writes = ch::spawn(ex, ch::write_and_close(r.backend(), down));
            auto client_writes = ch::spawn(ex, ch::write_and_close(r.client(), up));
            PumpSummary s = co_await pump(r.a(), r.b(), PumpOptions{.buffer_size = 1000});
            co_await ch::result(backend_writes);
            co_await ch::result(client_writes);
            Bytes got_up = co_await ch::result(backend_reads);
            Bytes got_down = co_await ch::result(client_reads);
            co_return std::tuple{s, got_up, got_down};
        });
        CHECK(at_backend.size() == up.size());
        CHECK(at_backend == up);
        CHECK(at_client.size() == down.size());
        CHECK(at_client == down);
        CHECK_FALSE(summary.error);
        CHECK(summary.a_to_b == up.size());
        CHECK(summary.b_to_a == down.size());
        CHECK(buffer_pool_lent_bytes() == lent_before);
    }
}

TEST_CASE("pump fast path: request and reply through secure channels, to a pipe of 100 bytes; pending records go out without waiting for more") {
    // Each message is a few records' worth of pipe: the pump's write leaves
    // records pending, and the peer waits for them before it sends again.
    auto [summary, replies] = test::run([](ch::Executor ex) -> asio::awaitable<std::tuple<PumpSummary, int>> {
        Rig r = co_await make_rig(ex, 100, true);
        auto pumped = ch::spawn(ex, pump(r.a(), r.b()));
        int good = 0;
        std::array<char, 512> buf{};
        for (int i = 0; i < 100; ++i) {
            const std::string request = "GET " + std::to_string(i) + " " + std::string(250, 'q') + "\r\n";
            co_await write_all(r.client(), asio::buffer(request));
            co_await read_exact(r.backend(), asio::buffer(buf.data(), request.size()));
            if (std::string(buf.data(), request.size()) != request) break;
            const std::string reply = "+" + std::string(300, 'r') + std::to_string(i) + "\r\n";
            co_await write_all(r.backend(), asio::buffer(reply));
            co_await read_exact(r.client(), asio::buffer(buf.data(), reply.size()));
            if (std::string(buf.data(), reply.size()) != reply) break;
            ++good;
        }
        co_await r.client().shutdown_send();
        co_await r.backend().shutdown_send();
        co_return std::tuple{co_await ch::result(pumped), good};
    });
    CHECK(replies == 100);
    CHECK_FALSE(summary.error);
    CHECK(summary.first_closed != PumpSide::none);
}

TEST_CASE("pump fast path: a write that fails there is a write failure of the destination's side") {
    const PumpSummary summary = test::run([](ch::Executor ex) -> asio::awaitable<PumpSummary> {
        auto [client, a] = make_pipe(ex);
        auto [b, backend] = make_pipe(ex);
        backend.close();  // b's writes fail from now on
        auto pumped = ch::spawn(ex, pump(a, b));
        const std::string request = "hello";
        co_await write_all(client, asio::buffer(request));
        co_return co_await ch::result(pumped);
    });
    CHECK(summary.error);
    CHECK(summary.error_text.rfind("b: write: ", 0) == 0);
}

}  // namespace pump_fast_path
