// The gate's byte pump over in-memory pipes: integrity, half-close,
// bounded memory under a stalled reader, and error propagation.
//
//   client <-pipe1-> [a  pump  b] <-pipe2-> backend
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_future.hpp>
#include <optional>

#include "tests/support/run.hpp"
#include "tests/support/send_and_finish.hpp"
#include <authchain/relay/pump.hpp>
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace asio::experimental::awaitable_operators;

namespace {

using authchain::test::pattern;
using authchain::test::read_to_end;
using authchain::test::send_and_finish;

struct Rig {
    Stream client, a, b, backend;
};

Rig make_rig(asio::any_io_executor ex, PipeOptions first = {}, PipeOptions second = {}) {
    auto [client, a] = make_pipe(ex, first);
    auto [b, backend] = make_pipe(ex, second);
    return {std::move(client), std::move(a), std::move(b), std::move(backend)};
}

// A stream whose reads fail with a connection reset: the awaited read, or
// with `fast` already the fast one (try_read_some); writes are swallowed.
class ResetStream final : public StreamImpl {
public:
    ResetStream(asio::any_io_executor ex, bool fast) : ex_(std::move(ex)), fast_(fast) {}
    asio::any_io_executor get_executor() override { return ex_; }
    std::optional<std::size_t> try_read_some(asio::mutable_buffer) override {
        if (fast_) throw std::system_error(asio::error::connection_reset, "test read");
        return std::nullopt;
    }
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer) override {
        throw std::system_error(asio::error::connection_reset, "test read");
        co_return 0;
    }
    asio::awaitable<std::size_t> write_some(asio::const_buffer b) override { co_return b.size(); }
    asio::awaitable<void> shutdown_send() override { co_return; }
    void close() noexcept override { closed = true; }
    asio::ip::tcp::endpoint remote_endpoint() const override { return {}; }
    Protection protection() const override { return {}; }
    bool closed = false;

private:
    asio::any_io_executor ex_;
    bool fast_;
};

}  // namespace

TEST_CASE("pump: bytes arrive intact both ways when every read returns one byte") {
    const std::string up = pattern(20000, 1), down = pattern(30000, 2);
    PipeOptions first, second;
    first.server.faults.one_byte_at_a_time = true;  // a reads the client one byte at a time
    first.client.faults.one_byte_at_a_time = true;
    second.client.faults.one_byte_at_a_time = true;  // b reads the backend one byte at a time
    second.server.faults.one_byte_at_a_time = true;
    first.capacity = second.capacity = 7;
    auto [summary, got_up, got_down] = test::run([&](asio::any_io_executor ex) -> asio::awaitable<
                                                     std::tuple<PumpSummary, std::string, std::string>> {
        Rig r = make_rig(ex, first, second);
        std::string at_backend, at_client;
        auto backend_side = [&]() -> asio::awaitable<void> {
            at_backend = co_await read_to_end(r.backend);
            co_await send_and_finish(r.backend, down);
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(r.client, up);
            at_client = co_await read_to_end(r.client);
        };
        auto s = co_await (pump(r.a, r.b, PumpOptions{.buffer_size = 5}) && (backend_side() && client_side()));
        co_return std::tuple{s, at_backend, at_client};
    });
    CHECK(got_up == up);
    CHECK(got_down == down);
    CHECK(summary.a_to_b == up.size());
    CHECK(summary.b_to_a == down.size());
    CHECK_FALSE(summary.error);
    CHECK(summary.first_closed == PumpSide::a);
}

TEST_CASE("pump: a half-close from the client reaches the backend; the reply still flows") {
    auto [summary, request, reply] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                                   std::tuple<PumpSummary, std::string, std::string>> {
        Rig r = make_rig(ex);
        std::string request, reply;
        auto backend_side = [&]() -> asio::awaitable<void> {
            request = co_await read_to_end(r.backend);  // ends only by the half-close
            co_await send_and_finish(r.backend, "reply after EOF");
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(r.client, "request");
            reply = co_await read_to_end(r.client);
        };
        auto s = co_await (pump(r.a, r.b) && (backend_side() && client_side()));
        co_return std::tuple{s, request, reply};
    });
    CHECK(request == "request");
    CHECK(reply == "reply after EOF");
    CHECK(summary.first_closed == PumpSide::a);
    CHECK_FALSE(summary.error);
}

TEST_CASE("pump: a half-close from the backend reaches the client; the client can still send") {
    auto [summary, greeting, late] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                                   std::tuple<PumpSummary, std::string, std::string>> {
        Rig r = make_rig(ex);
        std::string greeting, late;
        auto backend_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(r.backend, "bye");
            late = co_await read_to_end(r.backend);
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            greeting = co_await read_to_end(r.client);  // EOF first
            co_await send_and_finish(r.client, "sent after the backend's EOF");
        };
        auto s = co_await (pump(r.a, r.b) && (backend_side() && client_side()));
        co_return std::tuple{s, greeting, late};
    });
    CHECK(greeting == "bye");
    CHECK(late == "sent after the backend's EOF");
    CHECK(summary.first_closed == PumpSide::b);
    CHECK(summary.b_to_a == 3);
    CHECK_FALSE(summary.error);
}

TEST_CASE("pump: a stalled backend holds the client back; buffered bytes stay bounded") {
    constexpr std::size_t capacity = 4096, buffer = 8192, total = 1 << 20;
    asio::io_context io;
    PipeOptions opts;
    opts.capacity = capacity;
    Rig r = make_rig(io.get_executor(), opts, opts);
    std::size_t accepted = 0;  // bytes the client managed to write
    bool writer_done = false;
    auto writer = [&]() -> asio::awaitable<void> {
        std::string chunk(1024, 'x');
        try {
            while (accepted < total) accepted += co_await r.client.write_some(asio::buffer(chunk));
        } catch (const std::exception&) {
        }
        writer_done = true;
    };
    asio::co_spawn(io, writer(), asio::detached);
    auto done = asio::co_spawn(io, pump(r.a, r.b, PumpOptions{.buffer_size = buffer}), asio::use_future);

    // Run until nothing can make progress: the backend never reads.
    std::size_t rounds = 0;
    while (io.poll() > 0 && ++rounds < 1'000'000) io.restart();
    REQUIRE(rounds < 1'000'000);
    CHECK_FALSE(writer_done);
    CHECK(accepted <= capacity + buffer + capacity);
    CHECK(accepted >= capacity);  // it did flow until the pipes were full

    // Closing the pump's ends ends everything.
    r.a.close();
    r.b.close();
    io.restart();
    io.run_for(std::chrono::seconds(10));
    REQUIRE(done.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
    PumpSummary s = done.get();
    CHECK(s.error);
    CHECK(writer_done);
}

TEST_CASE("pump: the backend going away mid-stream closes the client side") {
    auto [summary, client_write_failed, client_saw_end] =
        test::run([](asio::any_io_executor ex) -> asio::awaitable<std::tuple<PumpSummary, bool, bool>> {
            Rig r = make_rig(ex);
            bool write_failed = false, saw_end = false;
            auto backend_side = [&]() -> asio::awaitable<void> {
                char buf[100];
                co_await read_exact(r.backend, asio::buffer(buf));
                r.backend.close();  // the backend dies
            };
            auto client_side = [&]() -> asio::awaitable<void> {
                std::string chunk(1000, 'y');
                try {
                    for (int i = 0; i < 10000; ++i) co_await write_all(r.client, asio::buffer(chunk));
                } catch (const std::system_error&) {
                    write_failed = true;
                }
                char buf[16];
                saw_end = co_await r.client.read_some(asio::buffer(buf)) == 0;
            };
            auto s = co_await (pump(r.a, r.b) && (backend_side() && client_side()));
            co_return std::tuple{s, write_failed, saw_end};
        });
    CHECK(summary.error);
    CHECK(summary.error_text.rfind("b: write:", 0) == 0);
    CHECK(client_write_failed);
    CHECK(client_saw_end);
}

TEST_CASE("pump: a read error on one side closes the other") {
    for (const bool fast : {false, true}) {
        CAPTURE(fast);
        auto [summary, closed, client_saw_end] =
            test::run([fast](asio::any_io_executor ex) -> asio::awaitable<std::tuple<PumpSummary, bool, bool>> {
                auto [client, a] = make_pipe(ex);
                auto reset = std::make_shared<ResetStream>(ex, fast);
                Stream b(reset);
                bool saw_end = false;
                auto client_side = [&client = client, &saw_end]() -> asio::awaitable<void> {
                    char buf[16];
                    saw_end = co_await client.read_some(asio::buffer(buf)) == 0;
                };
                auto s = co_await (pump(a, b) && client_side());
                co_return std::tuple{s, reset->closed, saw_end};
            });
        CHECK(summary.error);
        CHECK(summary.first_closed == PumpSide::b);
        CHECK(summary.error_text.find("b: read: test read") == 0);
        CHECK(closed);
        CHECK(client_saw_end);
    }
}
