// Pump: copies bytes both ways between two connected Streams until both
// directions are done.
//
//     PumpSummary s = co_await pump(client, backend);
//
// - Each direction first waits for its side to be readable without a buffer
//   and without a coroutine frame (Stream::async_wait_readable: an idle
//   connection holds two pending reads of its transports and the pump's own
//   state, nothing else), then borrows one buffer of PumpOptions::buffer_size
//   bytes from the per-thread pool (compose/buffer_pool.hpp) for a burst:
//   it writes what it read out completely before reading again, keeps
//   reading while reads fill the buffer, and gives the buffer back once a
//   short read is written out. So an idle connection holds no data buffer,
//   a slow reader slows the writer on the other side (backpressure), and a
//   direction never holds more than one buffer whatever the speeds.
// - End of stream on one side is passed on as a half-close (shutdown_send)
//   on the other; the opposite direction keeps flowing.
// - An error on either side (read, write or shutdown) closes both streams,
//   which ends the other direction too. When it is a read that failed (the
//   stream was cut, or its transport rejected the bytes: a bad record tag, a
//   secure channel that ended without its close record), the other side is
//   aborted (Stream::abort: a TCP RST), so that a backend never mistakes a
//   cut-off request for a complete one.
// Both streams must live on the calling coroutine's executor (a strand).
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <authchain/compose/stream.hpp>

namespace authchain {

struct PumpOptions {
    // Per direction, while bytes move. Four full secure-channel records
    // (4 x 65,518 bytes, transport/secure_channel.md), so a bulk read leaves
    // as four whole records in one write, not four and a sliver. 64 KiB
    // before: 10% more CPU per GB through a gate and a tunnel (issue 11).
    std::size_t buffer_size = 4 * 65518;
    // No byte read either way for this long closes both streams (a clean
    // close, not a reset; PumpSummary::idle says so). Zero: no limit.
    std::chrono::steady_clock::duration idle_timeout{};
};

// Which side ended first (end of stream or error), as seen by the pump.
enum class PumpSide { none, a, b };

struct PumpSummary {
    std::uint64_t a_to_b = 0;  // bytes read from a and written to b
    std::uint64_t b_to_a = 0;
    bool idle = false;  // closed by PumpOptions::idle_timeout (error is set too)
    PumpSide first_closed = PumpSide::none;
    bool error = false;  // a direction failed; both streams were closed
    // The side whose transport rejected what it read (AuthenticationError on
    // a read: integrity failure, truncation); none otherwise.
    PumpSide rejected = PumpSide::none;
    std::string error_text{};  // the first failure, e.g. "b: write: Connection reset by peer"
};

// Runs until both directions are done; never throws for I/O errors (they
// land in the summary). Both streams are closed when it returns with an
// error; on a clean finish both were half-closed and are left to the caller.
asio::awaitable<PumpSummary> pump(Stream& a, Stream& b, PumpOptions options = {});

std::string_view to_string(PumpSide side);

}  // namespace authchain
