// One stream of a multiplexed channel, as a Stream (relay/multiplex/multiplexer.hpp).
//
// A stream reads what its Multiplexer's reader handed it (the window bounds
// it) and writes into the channel's output buffer, within the window the
// peer granted: it has the Stream fast path (try_read_some, try_write_some,
// async_wait_readable without a buffer), so a relay moves a request through
// it with no coroutine. shutdown_send() sends a fin; close() before both
// directions finished, and abort(), reset the stream on the peer.
// Its endpoints are the channel's; its protection is the channel's, without
// a channel id (a stream is not a channel: no layer binds to it).
#pragma once

#include <asio/any_io_executor.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/stream.hpp>
#include <authchain/relay/detail/signal.hpp>
#include <authchain/relay/multiplex/frame.hpp>

namespace authchain::mux {

class Multiplexer;

// What the Multiplexer and the stream share about one stream.
struct StreamState {
    std::uint32_t id = 0;
    // Receiving: bytes the reader handed over and the stream's reader has
    // not taken yet, from rx_begin on.
    Bytes rx;
    std::size_t rx_begin = 0;
    std::uint32_t rx_window = 0;    // what the peer may still send
    std::uint32_t rx_unacked = 0;   // taken out since the last window frame
    std::uint32_t rx_size = 0;      // its window now: SessionOptions::window, or grown
    bool fin_received = false;
    // Sending.
    std::uint32_t tx_window = 0;    // what this end may still send
    bool fin_sent = false;
    // Over: reset by the peer or by the channel's end (`ended` says why),
    // or closed here.
    std::optional<std::string> ended;
    bool reset_by_peer = false;
    bool closed = false;
    bool in_table = true;   // the Multiplexer still routes frames to it
    // Who waits: a relay's async_wait_readable callback (it owns nothing),
    // and the coroutines of read_some and write_some (on a Signal, so the
    // io_context owns them while they wait; made on first use).
    StreamImpl::ReadableCallback readable;
    std::unique_ptr<detail::Signal> waiting;

    std::size_t buffered() const noexcept { return rx.size() - rx_begin; }
    // Wakes the reader (its callback posted on `executor`), the writer, or
    // both, if waiting.
    void wake_reader(const asio::any_io_executor& executor);
    void wake_writer();
    void wake(const asio::any_io_executor& executor) {
        wake_reader(executor);
        wake_writer();
    }
};

// The Stream of `state` on `multiplexer`.
Stream make_stream(std::shared_ptr<Multiplexer> multiplexer, std::shared_ptr<StreamState> state);

}  // namespace authchain::mux
