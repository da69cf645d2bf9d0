// Multiplexer: one end of a multiplexed channel (relay/multiplex/frame.hpp
// has the wire format): many streams over one authenticated Stream.
//
//     auto m = Multiplexer::create(std::move(channel), Role::client, options);
//     co_await m->start();                 // hellos both ways
//     Stream s = m->open();                // client: a new stream
//     std::optional<Stream> t = co_await m->accept();   // server: the next one
//
// Everything runs on the channel's executor, which must have one thread (an
// EventLoops loop, or a strand): the streams too, so no lock is taken.
//
// - Writes of every stream are framed into one output buffer, and a flush
//   posted once per turn of the event loop sends what all of them queued in
//   one write on the channel: under load, many requests share one record
//   and one system call.
// - One reader takes frames off the channel and hands each stream its data;
//   it never waits for a stream. Flow control bounds what it buffers: each
//   stream may receive at most its window (SessionOptions::window) before
//   its reader has taken the bytes out; a peer that sends more breaks the
//   channel (a protocol error). A stream whose reader keeps up (it has taken
//   everything when half its window is due back) gets its window doubled
//   with the credit, up to max_window, within a growth budget per channel:
//   one bulk stream is not held to one window per round trip (256 KiB:
//   1,050 MB/s through a gate and a tunnel here; grown: about 1,600), and
//   memory stays bounded by max_streams x window + window_growth_budget,
//   since only this end's reader, never the peer, makes a window grow. The output buffer is bounded too: a stream
//   whose write would grow it past output_limit waits until the channel has
//   taken it.
// - A stream the server will not open (more than max_streams at once) is
//   reset as `refused`; a stream is reset as `aborted` when its end closes
//   it before both directions finished, so a cut-off request never reads as
//   complete on the other side.
// - The end of the channel (its end of stream, an error, a protocol error,
//   close()) resets every stream still open; their reads and writes throw
//   std::system_error (connection_aborted) naming why.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/stream.hpp>
#include <authchain/relay/detail/signal.hpp>
#include <authchain/relay/multiplex/frame.hpp>

namespace authchain::mux {

enum class Role { client, server };

struct SessionOptions {
    // Streams the peer may hold open at once on this channel (what this end
    // announces; the server enforces it, the client sends up to the server's).
    std::uint32_t max_streams = 1024;
    // The receive window this end grants each stream, in bytes: what one
    // stream may buffer here before its reader takes it.
    std::uint32_t window = 256 * 1024;
    // What a stream's window may grow to while its reader keeps up (no
    // growth when not above `window`), and how much growth all the streams
    // of one channel may hold at once.
    std::uint32_t max_window = 4 * 1024 * 1024;
    std::size_t window_growth_budget = 16 * 1024 * 1024;
    // Output framed but not yet taken by the channel before writers wait.
    std::size_t output_limit = 1024 * 1024;
    // How long start() waits for the peer's hello.
    std::chrono::steady_clock::duration hello_timeout = std::chrono::seconds(10);
};

// Checks an options set; throws std::invalid_argument naming the bad value.
void validate(const SessionOptions& options);

struct StreamState;

class Multiplexer : public std::enable_shared_from_this<Multiplexer> {
public:
    static std::shared_ptr<Multiplexer> create(Stream channel, Role role, SessionOptions options = {});
    ~Multiplexer();
    Multiplexer(const Multiplexer&) = delete;
    Multiplexer& operator=(const Multiplexer&) = delete;

    // Sends this end's hello, waits (hello_timeout) for the peer's, then
    // starts the reader. Throws FrameError (a peer that does not speak the
    // protocol: "not a multiplexing peer ..."), std::system_error (the
    // channel failed or timed out); the channel is closed then.
    asio::awaitable<void> start();

    // Client: a new stream, or std::nullopt when this channel can take no
    // more (the server's max_streams open here, ids used up, or the channel
    // is over: can_open() says which first).
    std::optional<Stream> open();
    bool can_open() const noexcept;

    // Server: the next stream the client opened; std::nullopt once the
    // channel is over. One caller at a time.
    asio::awaitable<std::optional<Stream>> accept();

    // Resets every stream and closes the channel: the peer sees a clean end
    // (the channel's close record, then end of stream). Idempotent.
    void close() noexcept;
    // No new stream from open(); the channel closes (as close()) once the
    // streams open now are over.
    void retire() noexcept;
    // Server: tells the client to open no new stream here (a goaway frame):
    // it opens them on a new channel, which runs the chain again. The
    // streams open go on. Idempotent.
    void go_away() noexcept;

    // Runs `done` once the channel is over and closed (after its close
    // record, on a graceful end), on its executor.
    void on_over(std::function<void()> done) { over_hook_ = std::move(done); }
    bool alive() const noexcept { return !over_; }
    // Why the channel ended ("" while alive; "end of stream" when the peer
    // closed it cleanly).
    const std::string& end_reason() const noexcept { return end_reason_; }
    std::size_t open_streams() const noexcept { return streams_.size(); }
    std::uint64_t streams_opened() const noexcept { return opened_; }
    asio::any_io_executor executor() const { return executor_; }
    const Stream& channel() const noexcept { return channel_; }

    // For the streams (relay/multiplex/stream.cpp).
    void queue_data(StreamState& stream, ByteView data);
    void queue_window(StreamState& stream, std::uint32_t increment);
    // The stream's reader took stream.rx_unacked bytes: grants them back as
    // window (grown when the reader keeps up; see above).
    void grant_window(StreamState& stream);
    void queue_fin(StreamState& stream);
    // Drops the stream from the table; `reset` sends a reset frame first.
    void forget(StreamState& stream, bool reset);
    bool output_full() const noexcept { return out_.size() >= options_.output_limit; }
    // Returns once the output buffer has room again (or the channel ended).
    asio::awaitable<void> output_drained();
    const SessionOptions& options() const noexcept { return options_; }

private:
    Multiplexer(Stream channel, Role role, SessionOptions options);

    asio::awaitable<void> read_hello();
    static asio::awaitable<void> read_loop(std::shared_ptr<Multiplexer> self);
    // Handles every whole frame at the front of `input`; returns the bytes used.
    std::size_t handle_frames(ByteView input);
    // Drops the first `n` bytes of in_.
    void consume(std::size_t n);
    void handle(const Frame& frame);
    void handle_open(std::uint32_t id);
    // Takes the stream out of the table (frames to it are dropped from now
    // on) and gives back the window growth it held.
    void unlist(StreamState& stream);
    StreamState* find(std::uint32_t id, FrameType type);
    std::shared_ptr<StreamState> make_state(std::uint32_t id);
    void schedule_flush();
    void flush_now();
    static asio::awaitable<void> write_loop(std::shared_ptr<Multiplexer> self);
    void drained();
    // Ends the channel: every stream reset with `why`, the channel closed;
    // `graceful`: after its close record (shutdown_send).
    void end(std::string why, bool graceful = false) noexcept;
    static asio::awaitable<void> goodbye(std::shared_ptr<Multiplexer> self);
    void closed() noexcept;  // the channel is closed: over_hook_

    Stream channel_;
    asio::any_io_executor executor_;
    Role role_;
    SessionOptions options_;
    Hello peer_{};
    bool started_ = false;
    bool over_ = false;
    bool retiring_ = false;   // client: open no more, close once the streams are over
    bool went_away_ = false;  // server: the goaway was sent
    bool goodbye_ = false;  // a graceful end waits for the write loop
    std::function<void()> over_hook_;
    std::string end_reason_;

    std::unordered_map<std::uint32_t, std::shared_ptr<StreamState>> streams_;
    std::uint32_t last_id_ = 0;  // the highest stream id opened so far
    std::uint64_t opened_ = 0;
    std::size_t grown_ = 0;  // window growth the listed streams hold

    // Server: streams opened by the client, not yet accepted.
    std::deque<std::shared_ptr<StreamState>> arrived_;

    Bytes in_;                    // the reader's buffer: in_used_ bytes not parsed yet
    std::size_t in_used_ = 0;
    Bytes out_;                   // frames not yet handed to the channel
    Bytes sending_;               // frames the write loop is sending
    bool flush_scheduled_ = false;
    bool writing_ = false;
    detail::Signal arrived_signal_{executor_};   // accept() waits on it
    detail::Signal drained_signal_{executor_};   // writers wait on it while output_full()
};

}  // namespace authchain::mux
