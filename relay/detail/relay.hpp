// Relay: the pump's engine (relay/pump.hpp), for a coroutine that owns the
// two streams and waits for the end itself (pump(), forward()):
//
//     Relay relay(a, b, options, co_await asio::this_coro::executor);
//     relay.start();
//     if (relay.running()) co_await relay.done().async_wait(as_tuple_awaitable);
//     PumpSummary s = std::move(relay.summary());
//
// Between bursts a direction is a bufferless wait on its stream
// (Stream::async_wait_readable), not a suspended coroutine: an idle
// connection holds this object, in its owner's frame, and two pending reads
// of its transports, nothing else. A burst borrows one buffer from the
// per-thread pool and first copies synchronously (Stream::try_read_some,
// try_write_some): a request or a reply that both streams move at once
// passes with no coroutine and no trip through the event loop. Whatever
// has to wait (a read with nothing whole yet, a full destination, the end
// of the stream to pass on) goes on in a coroutine (copy()), which takes
// over the buffer and the bytes not yet written. The owner must keep
// the relay and both streams until running() is false; everything runs on
// `executor`, which must be the streams'.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <string_view>

#include <authchain/compose/buffer_pool.hpp>
#include <authchain/compose/stream.hpp>
#include <authchain/relay/pump.hpp>

namespace authchain::detail {

class Relay {
public:
    Relay(Stream& a, Stream& b, const PumpOptions& options, const asio::any_io_executor& executor);
    Relay(const Relay&) = delete;
    Relay& operator=(const Relay&) = delete;

    // Starts both directions (and the idle watch, with an idle timeout).
    void start();
    // True while a callback it started has not run yet; `done` is cancelled
    // once the last one has, and the summary is final then.
    bool running() const noexcept { return outstanding_ > 0; }
    asio::steady_timer& done() noexcept { return done_; }
    PumpSummary& summary() noexcept { return summary_; }

private:
    using clock = std::chrono::steady_clock;

    Stream& stream(PumpSide side) { return side == PumpSide::a ? a_ : b_; }
    std::uint64_t& count(PumpSide side) { return side == PumpSide::a ? summary_.a_to_b : summary_.b_to_a; }
    void ended(PumpSide side);
    void failed(PumpSide side, std::string_view stage, std::string_view what, bool rejected);
    void failed(PumpSide side, std::string_view stage, const std::exception_ptr& error);
    void wait(PumpSide side);
    void burst(PumpSide side);
    bool copy_now(PumpSide side);
    asio::awaitable<bool> copy(PumpSide side);
    void direction_over();
    void arm_watch();
    void watched();
    void settle();

    Stream& a_;
    Stream& b_;
    asio::any_io_executor executor_;
    asio::steady_timer done_;
    std::optional<asio::steady_timer> watch_;
    std::size_t buffer_size_;
    clock::duration idle_;
    clock::time_point last_read_ = clock::now();
    int directions_ = 2;   // directions not over yet
    int outstanding_ = 2;  // the directions, and the watch while it runs
    PumpSummary summary_;
    // Per direction (a, b): what the fast path hands to copy(): its buffer,
    // and the bytes [begin, end) of it still to write (the read brought
    // `end` bytes: fewer than the buffer holds means it drained the source,
    // so copy() waits afterwards rather than reading on). Empty between
    // bursts.
    struct Carry {
        PooledBuffer buffer;
        std::size_t begin = 0, end = 0;
    };
    Carry carry_[2];
    Carry& carry(PumpSide side) { return carry_[side == PumpSide::a ? 0 : 1]; }
};

}  // namespace authchain::detail
