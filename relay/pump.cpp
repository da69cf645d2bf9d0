#include <authchain/relay/pump.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <string>

#include <authchain/compose/buffer_pool.hpp>

namespace authchain {

namespace {

struct PumpState {
    Stream& a;
    Stream& b;
    PumpSummary summary;
    std::chrono::steady_clock::time_point last_read = std::chrono::steady_clock::now();
    bool copying = true;

    void ended(PumpSide side) {
        if (summary.first_closed == PumpSide::none) summary.first_closed = side;
    }
    Stream& stream(PumpSide side) { return side == PumpSide::a ? a : b; }

    // The first failure wins; the aborted operations it causes on the other
    // direction are consequences, not news. When the first failure is a read
    // (the stream was cut, or its transport rejected the bytes), the other
    // side is aborted, not closed: it must not take the cut for a clean end.
    void failed(PumpSide side, std::string_view stage, std::string_view what, bool rejected) {
        if (!summary.error) {
            summary.error = true;
            summary.error_text = std::string(to_string(side)) + ": " + std::string(stage) + ": " + std::string(what);
            if (rejected) summary.rejected = side;
            ended(side);
            if (stage == "read") stream(side == PumpSide::a ? PumpSide::b : PumpSide::a).abort();
        }
        a.close();
        b.close();
    }
};

PumpSide other(PumpSide s) { return s == PumpSide::a ? PumpSide::b : PumpSide::a; }

// Outside the coroutine: g++ 12 can destroy a class temporary in a
// coroutine twice (PLATFORM.md).
void borrow(PooledBuffer& buffer, std::size_t size) { buffer = PooledBuffer(size); }

// Copies from -> to until end of stream, then half-closes `to`.
asio::awaitable<void> copy(PumpState& state, Stream& from, Stream& to, PumpSide from_side,
                           std::uint64_t& count, std::size_t buffer_size) {
    PooledBuffer buffer;
    PumpSide failing = from_side;
    std::string_view stage = "read";
    try {
        for (;;) {
            failing = from_side, stage = "read";
            // No buffer while waiting: it is borrowed once bytes are there
            // and given back as soon as they are written out.
            co_await from.wait_readable();
            borrow(buffer, buffer_size);
            std::size_t n = co_await from.read_some(asio::buffer(buffer.data(), buffer.size()));
            if (n == 0) break;
            state.last_read = std::chrono::steady_clock::now();
            failing = other(from_side), stage = "write";
            co_await write_all(to, asio::buffer(buffer.data(), n));
            buffer.release();
            count += n;
        }
        buffer.release();
        state.ended(from_side);
        failing = other(from_side), stage = "shutdown";
        co_await to.shutdown_send();
    } catch (const AuthenticationError& e) {
        // Only a read can be rejected (a bad tag, a truncated stream, a deny).
        state.failed(failing, stage, e.what(), stage == std::string_view("read"));
    } catch (const std::exception& e) {
        state.failed(failing, stage, e.what(), false);
    }
}

// Both directions, then wakes the idle watch so it ends too.
asio::awaitable<void> copy_both(PumpState& state, std::size_t size, asio::steady_timer& watch) {
    using namespace asio::experimental::awaitable_operators;
    co_await (copy(state, state.a, state.b, PumpSide::a, state.summary.a_to_b, size) &&
              copy(state, state.b, state.a, PumpSide::b, state.summary.b_to_a, size));
    state.copying = false;
    watch.cancel();
}

// Closes both streams once nothing was read for `idle`.
asio::awaitable<void> watch_idle(PumpState& state, std::chrono::steady_clock::duration idle,
                                 asio::steady_timer& watch) {
    while (state.copying) {
        watch.expires_at(state.last_read + idle);
        co_await watch.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        if (!state.copying) break;
        if (std::chrono::steady_clock::now() < state.last_read + idle) continue;
        if (!state.summary.error) {
            state.summary.error = true;
            state.summary.idle = true;
            state.summary.error_text = "idle timeout: nothing read either way for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(idle).count()) + " ms";
        }
        state.a.close();
        state.b.close();
        break;
    }
}

}  // namespace

std::string_view to_string(PumpSide side) {
    switch (side) {
        case PumpSide::a: return "a";
        case PumpSide::b: return "b";
        case PumpSide::none: break;
    }
    return "none";
}

asio::awaitable<PumpSummary> pump(Stream& a, Stream& b, PumpOptions options) {
    using namespace asio::experimental::awaitable_operators;
    std::size_t size = options.buffer_size == 0 ? 1 : options.buffer_size;
    PumpState state{a, b, {}};
    if (options.idle_timeout <= std::chrono::steady_clock::duration::zero()) {
        co_await (copy(state, a, b, PumpSide::a, state.summary.a_to_b, size) &&
                  copy(state, b, a, PumpSide::b, state.summary.b_to_a, size));
        co_return state.summary;
    }
    asio::steady_timer watch(co_await asio::this_coro::executor);
    co_await (copy_both(state, size, watch) && watch_idle(state, options.idle_timeout, watch));
    co_return state.summary;
}

}  // namespace authchain
