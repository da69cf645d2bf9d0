// Multiplexing: many tunnelled connections over one authenticated
// connection, as `ssh -L` carries them, so a connection after the first
// costs no handshake and, under load, requests of many connections share
// one record and one system call (relay/multiplex/multiplexer.hpp has the
// engine, relay/multiplex/frame.hpp the wire format).
//
// The gate side: a Handler for the authenticated connection (the channel)
// that serves each stream the client opens as a Session of its own:
//
//     Server server(listener, chain, serve_multiplexed(forward_to(backend, options, report)), {.loops = &loops});
//
// The client side: forward each local connection over a stream:
//
//     auto dialer = std::make_shared<MultiplexDialer>(gate, DialOptions{.client_chain = chain});
//     ForwardOptions options{.open = dialer->opener()};
//     Server local(listener, pass(), forward_to(gate, options, report), {.loops = &loops});
//
// What the channel proved (its credentials: keys, names, facts) stands for
// every stream on it; the gate's [[allow]] and limits ran once, on the
// channel. A stream is refused (reset) past SessionOptions::max_streams
// open at once on one channel; the tunnel then opens another channel.
//
// Threads: a channel and its streams live on one executor with one thread.
// The dialer keeps channels per event loop (the executor of the coroutine
// that calls open(): an EventLoops loop, or any io_context run by one
// thread), so a connection's stream is on its own loop: the data path takes
// no lock.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <authchain/compose/server.hpp>
#include <authchain/compose/session.hpp>
#include <authchain/relay/forward.hpp>
#include <authchain/relay/multiplex/multiplexer.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain {

// What one channel was, when it is over (gate side).
struct ChannelSummary {
    std::uint64_t streams = 0;   // streams the client opened on it
    std::string end_reason{};     // "end of stream", "protocol error: ...", ...
    bool started = false;        // false: the hellos failed (end_reason says why)
    std::chrono::steady_clock::duration duration{};
};
using ChannelReport = std::function<void(const Session& channel, const ChannelSummary& summary)>;

// The channels a serve_multiplexed handler is serving, so that they can all
// be told to go away (Multiplexer::go_away): the gate does so when a reload
// replaced the configuration they were accepted under, so each tunnel opens
// its next streams on a new channel, which runs the new chain (a key removed
// from authorized_keys no longer opens anything), while the streams open
// finish. Thread-safe.
class ChannelSet {
public:
    // Posts go_away() to every channel in the set now, on its executor.
    void go_away_all() { channels_->close_all(); }
    std::size_t size() const { return channels_->size(); }

    // For serve_multiplexed: a channel is in the set while the Guard lives.
    LiveForwards::Guard add(const std::shared_ptr<mux::Multiplexer>& channel);

private:
    // A registry of executor-bound calls, as LiveForwards keeps for forwards:
    // here each call is a channel's go_away().
    std::shared_ptr<LiveForwards> channels_ = std::make_shared<LiveForwards>();
};

// The gate side: runs the server end of a channel on the session's stream
// and `per_stream` on each stream, as Session{stream, the channel's
// credentials, the channel's handshake}, on the channel's executor. Returns
// (then reports) once the channel is over and every per_stream has returned.
// An exception out of per_stream ends that stream only.
// `channels`, when given, holds every channel while it is served (and must
// outlive the handler's channels).
Handler serve_multiplexed(Handler per_stream, mux::SessionOptions options = {}, ChannelReport report = {},
                          std::shared_ptr<ChannelSet> channels = {});

// How the client side reaches the gate for a new channel.
struct DialOptions {
    std::chrono::milliseconds connect_timeout{10000};
    std::chrono::seconds keepalive{};        // TCP keepalive on the channel; zero: off
    Authenticator client_chain{};             // run once per channel
    ClientOptions client{};                   // its handshake_timeout
    mux::SessionOptions session{};
    // Optional: when it stops (the tunnel's graceful stop), the channels
    // take no new stream and close cleanly once their streams are over.
    std::shared_ptr<LiveForwards> live{};
};

// The client side: opens streams to one gate, over channels it connects
// and authenticates when a stream needs one (one per event loop, more when
// one is full). A channel that failed or ended is dropped; the next stream
// opens a new one. Thread-safe: each loop touches its own channels only.
class MultiplexDialer : public std::enable_shared_from_this<MultiplexDialer> {
public:
    MultiplexDialer(Endpoint server, DialOptions options);
    // Closes the channels it opened (on their loops).
    ~MultiplexDialer();
    MultiplexDialer(const MultiplexDialer&) = delete;
    // A dialer is owned by a std::shared_ptr (open() and opener() keep it alive).
    MultiplexDialer& operator=(const MultiplexDialer&) = delete;

    // A new stream on a channel of the calling coroutine's executor, and
    // what the channel's chain proved about the server. Throws
    // AuthenticationError when the chain is refused, and another exception
    // when the gate cannot be reached or does not multiplex; the streams
    // that waited for the same channel get the same exception.
    asio::awaitable<OpenedStream> open();
    // open() as ForwardOptions::open (keeps the dialer alive).
    std::function<asio::awaitable<OpenedStream>()> opener();

private:
    struct Channel {
        std::shared_ptr<mux::Multiplexer> mux;
        std::shared_ptr<const Credentials> credentials;
    };
    struct Loop;
    Loop& loop_of(const asio::any_io_executor& executor);
    asio::awaitable<Channel> connect();

    Endpoint server_;
    DialOptions options_;
    mutable std::mutex mutex_;  // guards loops_ (the map, not the loops)
    std::unordered_map<const void*, std::unique_ptr<Loop>> loops_;
};

}  // namespace authchain
