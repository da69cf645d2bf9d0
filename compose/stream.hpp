// Stream: the seam between layers. A type-erased, move-only byte stream.
//
// A plain TCP socket, a secure channel, a TLS stream and the in-memory test
// pipe are all Streams. A transport implements StreamImpl; a layer that
// wraps a stream (encryption) builds its impl around the inner Stream with
// Stream::wrap, so the whole stack stays one connection.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/credentials.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

// What a stream guarantees about the bytes it carries.
struct Protection {
    bool confidential = false;        // an eavesdropper cannot read the bytes
    bool peer_authenticated = false;  // the transport itself proved the peer
    Bytes channel_id{};                 // unique per connection; empty if none
    std::string transport{};            // e.g. "tcp", "Noise_NN_25519_AESGCM_SHA256"
};

// The interface a transport implements. All operations are awaited on the
// stream's executor; a stream is used by one reader and one writer at a time.
class StreamImpl {
public:
    using ReadableCallback = std::function<void(std::exception_ptr)>;
    virtual ~StreamImpl() = default;

    virtual asio::any_io_executor get_executor() = 0;
    // Reads at least one byte into `buffer`; returns 0 at a clean end of
    // stream. Throws std::system_error on I/O errors and AuthenticationError
    // (protocol_error) when the peer sends bytes the transport rejects.
    virtual asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) = 0;
    // Calls `ready` once read_some is likely to return at once: bytes (or
    // the end of the stream, or an error) are there to read. No buffer and
    // no coroutine frame are held while waiting: a relay waits so on an idle
    // connection (relay/pump.hpp) and borrows a buffer only then. `ready`
    // runs on the stream's executor, never inside this call, exactly once,
    // also when the stream is closed while waiting; it gets the error
    // read_some would throw (null when there is none), and the read_some
    // after it reports that error too. It may be called early (then read_some
    // waits as usual): the default calls it at once. Reader side: not
    // alongside read_some. The stream must outlive the call of `ready`.
    virtual void async_wait_readable(ReadableCallback ready);
    // Writes at least one byte of `buffer`; returns how many were written.
    virtual asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) = 0;
    // The synchronous fast path, so a relay copies a small message with no
    // coroutine and no trip through the event loop (relay/detail/relay.cpp).
    // Each returns std::nullopt, having moved nothing, where its awaited
    // form would have to wait; the defaults always do, so a transport
    // without a fast path is simply awaited. Each throws what its awaited
    // form throws. Same callers and executor as read_some and write_some.
    //
    // try_read_some: as read_some; after it returned 0 (the end of the
    // stream), read_some returns 0 too.
    virtual std::optional<std::size_t> try_read_some(asio::mutable_buffer) { return std::nullopt; }
    // try_write_some: as write_some. A transport that frames what it takes
    // (the secure channel) may take bytes whose frame the stream below it
    // would only take in part: output_pending() is then true, and stays so
    // until flush() (or the next awaited write: write_some, shutdown_send,
    // send_deny, send_accept) has sent the rest, which it does first. While
    // output is pending, try_write_some takes nothing.
    virtual std::optional<std::size_t> try_write_some(asio::const_buffer) { return std::nullopt; }
    virtual bool output_pending() const noexcept { return false; }
    virtual asio::awaitable<void> flush() { co_return; }
    // Half-close: the peer reads end of stream; reading still works.
    virtual asio::awaitable<void> shutdown_send() = 0;
    // Tells the peer why it is refused, where the transport can carry it
    // (a plain byte stream cannot: it carries someone else's protocol).
    virtual asio::awaitable<void> send_deny(DenyReason) { co_return; }
    // The verdict on the whole chain, where the transport can carry it (the
    // secure channel does): the server driver sends an accept once every
    // layer (and any check after them) has passed, and the client driver
    // awaits it, so a client learns that a check it cannot see (an [[allow]]
    // rule after public_key) refused it. receive_verdict returns on accept
    // and throws AuthenticationError with the server's reason on a deny.
    // Both are no-ops on a transport that cannot carry them.
    virtual asio::awaitable<void> send_accept() { co_return; }
    virtual asio::awaitable<void> receive_verdict() { co_return; }
    // Immediate: aborts pending operations; a wrapping stream also closes
    // the stream it wraps. Idempotent.
    virtual void close() noexcept = 0;
    // Immediate and loud: as close(), but the peer sees the connection
    // reset (a TCP RST: SO_LINGER 0, then close), not a clean end of stream,
    // so it cannot mistake a cut-off stream for a complete one. A transport
    // that has no such signal closes (the default). Idempotent.
    virtual void abort() noexcept { close(); }
    virtual asio::ip::tcp::endpoint remote_endpoint() const = 0;
    // This end's address (what the peer dialled); unspecified if unknown.
    virtual asio::ip::tcp::endpoint local_endpoint() const { return {}; }
    virtual Protection protection() const = 0;

protected:
    // For async_wait_readable when the stream is ready now: posts `ready`
    // (with `error`) on the stream's executor, never calling it inline.
    void ready_now(ReadableCallback ready, std::exception_ptr error = nullptr);
};


// Per-connection state shared by every Stream of one stack: the top stream
// (to send a deny on and to close), the handshake's progress (for the audit
// of a denied attempt), and objects kept alive while any Stream of the
// connection lives (e.g. a connection_limit slot). Use it from the
// connection's strand.
class ConnectionTrail {
public:
    // The name and port a client dialled (tcp_connect records them), for
    // layers that check the server's identity by name (client::public_key).
    struct Dialled {
        std::string host{};
        std::uint16_t port = 0;
    };

    ConnectionTrail() = default;
    ConnectionTrail(const ConnectionTrail&) = delete;
    ConnectionTrail& operator=(const ConnectionTrail&) = delete;

    // The newest stream stacked on the connection while a Stream (or the
    // pin) keeps it alive; null after that.
    std::shared_ptr<StreamImpl> top() const noexcept;
    // Closes top() if there is one (a deadline aborts the handshake so).
    void close_top() noexcept;

    // While pinned, the trail keeps the top stream alive (the current one
    // and any stacked later), so a driver can still send the deny and close
    // after a failing layer destroyed its Session. A driver pins for the
    // handshake and unpins before handing the session over. Both idempotent.
    void pin();
    void unpin() noexcept;
    bool pinned() const noexcept { return pinned_; }

    // Keeps `object` alive for as long as the trail, i.e. as long as any
    // Stream of the connection.
    void hold(std::shared_ptr<void> object);

    // Progress, recorded once: the trail reads the proof log of the
    // credentials given to track() (the same object, never a copy; see
    // compose/session.cpp). layers_passed() is the layers that proved or
    // noted something so far, in order, without repetition; empty before
    // track(). track() replaces any log followed before.
    void track(const Credentials& credentials);
    std::vector<std::string> layers_passed() const;

    // Which driver runs the chain on this connection: Server (server) or
    // authenticate (client); unknown when a chain is run by hand. Layers
    // with two sides check it first (require_side, compose/session.hpp).
    enum class Side : std::uint8_t { unknown, server, client };
    void set_side(Side side) noexcept { side_ = side; }
    Side side() const noexcept { return side_; }

    // What the client dialled; unset on an accepted connection or a stream
    // made from a socket the library did not connect.
    void set_dialled(Dialled dialled) { dialled_ = std::move(dialled); }
    const std::optional<Dialled>& dialled() const noexcept { return dialled_; }

private:
    friend class Stream;
    void set_top(const std::shared_ptr<StreamImpl>& impl);

    std::weak_ptr<StreamImpl> top_;
    bool pinned_ = false;
    std::shared_ptr<StreamImpl> pinned_top_;  // null unless pinned_
    std::shared_ptr<const ProofLog> progress_;
    std::vector<std::shared_ptr<void>> held_;
    std::optional<Dialled> dialled_;
    Side side_ = Side::unknown;
};

namespace detail {
// The outcome of one read_some/write_some as Asio's stream concepts report
// it: end of stream is asio::error::eof; a std::system_error keeps its code;
// an AuthenticationError (bytes the transport rejects) is
// std::errc::protocol_error; anything else std::errc::io_error.
struct IoResult {
    std::error_code error;
    std::size_t bytes = 0;
};
asio::awaitable<IoResult> read_some_result(std::shared_ptr<StreamImpl> impl, asio::mutable_buffer buffer);
asio::awaitable<IoResult> write_some_result(std::shared_ptr<StreamImpl> impl, asio::const_buffer buffer);

// The first non-empty buffer of a sequence (what one read_some/write_some
// moves, as Asio's own sockets do); empty if all are.
template <class Buffer, class Sequence>
Buffer first_buffer(const Sequence& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers); ++it) {
        Buffer b(*it);
        if (b.size() > 0) return b;
    }
    return Buffer();
}

// Runs `op` on the stream's executor and completes `handler` with
// (error_code, bytes) on the handler's associated executor.
template <class Handler>
void complete_io(asio::any_io_executor executor, asio::awaitable<IoResult> op, Handler handler) {
    auto handler_executor = asio::get_associated_executor(handler, executor);
    asio::co_spawn(executor, std::move(op),
                   asio::bind_executor(handler_executor,
                                       [h = std::move(handler)](std::exception_ptr, IoResult r) mutable {
                                           std::move(h)(r.error, r.bytes);
                                       }));
}
}  // namespace detail

class Stream {
public:
    Stream() = default;
    // A new connection (the root of a stack).
    explicit Stream(std::shared_ptr<StreamImpl> impl);
    // Builds `Impl(std::move(inner), args...)` as the new top of inner's stack.
    template <class Impl, class... Args>
    static Stream wrap(Stream inner, Args&&... args) {
        auto trail = inner.trail_;
        auto impl = std::make_shared<Impl>(std::move(inner), std::forward<Args>(args)...);
        return Stream(std::move(impl), std::move(trail));
    }

    Stream(Stream&&) noexcept = default;
    Stream& operator=(Stream&&) noexcept = default;
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream();

    explicit operator bool() const noexcept { return impl_ != nullptr; }

    // Asio's AsyncReadStream and AsyncWriteStream: a Stream works with
    // asio::async_read, async_read_until (asio::streambuf, dynamic_buffer),
    // async_write and any protocol library written for Asio streams, with
    // any completion token (use_awaitable, a callback, use_future, ...).
    // One call moves bytes of the first non-empty buffer; end of stream
    // is asio::error::eof; other errors as detail::IoResult says.
    using executor_type = asio::any_io_executor;
    executor_type get_executor() const { return impl_->get_executor(); }

    template <class MutableBufferSequence, class Token>
    auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [](auto handler, std::shared_ptr<StreamImpl> impl, asio::mutable_buffer buffer) {
                auto executor = impl->get_executor();
                detail::complete_io(executor, detail::read_some_result(std::move(impl), buffer),
                                    std::move(handler));
            },
            token, impl_, detail::first_buffer<asio::mutable_buffer>(buffers));
    }

    template <class ConstBufferSequence, class Token>
    auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
        return asio::async_initiate<Token, void(std::error_code, std::size_t)>(
            [](auto handler, std::shared_ptr<StreamImpl> impl, asio::const_buffer buffer) {
                auto executor = impl->get_executor();
                detail::complete_io(executor, detail::write_some_result(std::move(impl), buffer),
                                    std::move(handler));
            },
            token, impl_, detail::first_buffer<asio::const_buffer>(buffers));
    }

    // The coroutine forms: read_some returns 0 at a clean end of stream and
    // throws on errors (see StreamImpl).
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer);
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer);
    // The fast path: see StreamImpl::try_read_some and what follows it.
    std::optional<std::size_t> try_read_some(asio::mutable_buffer buffer) { return impl_->try_read_some(buffer); }
    std::optional<std::size_t> try_write_some(asio::const_buffer buffer) { return impl_->try_write_some(buffer); }
    bool output_pending() const noexcept { return impl_->output_pending(); }
    asio::awaitable<void> flush() { return impl_->flush(); }
    // See StreamImpl::async_wait_readable; the coroutine form throws the
    // error it reports.
    void async_wait_readable(StreamImpl::ReadableCallback ready);
    asio::awaitable<void> wait_readable();
    asio::awaitable<void> shutdown_send();
    asio::awaitable<void> send_deny(DenyReason reason);
    // See StreamImpl::send_accept and receive_verdict.
    asio::awaitable<void> send_accept();
    asio::awaitable<void> receive_verdict();
    void close() noexcept;
    void abort() noexcept;
    asio::ip::tcp::endpoint remote_endpoint() const { return impl_->remote_endpoint(); }
    asio::ip::tcp::endpoint local_endpoint() const { return impl_->local_endpoint(); }
    Protection protection() const { return impl_->protection(); }

    // Keeps `object` alive for as long as any stream of this connection.
    void hold(std::shared_ptr<void> object);
    const std::shared_ptr<ConnectionTrail>& trail() const noexcept { return trail_; }
    // What the client dialled (ConnectionTrail::dialled), for every stream of the connection.
    const std::optional<ConnectionTrail::Dialled>& dialled() const noexcept { return trail_->dialled(); }

private:
    Stream(std::shared_ptr<StreamImpl> impl, std::shared_ptr<ConnectionTrail> trail);

    std::shared_ptr<StreamImpl> impl_;
    std::shared_ptr<ConnectionTrail> trail_;
};

// Writes all of `data`.
asio::awaitable<void> write_all(Stream& stream, asio::const_buffer data);
// Reads exactly buffer.size() bytes; a premature end of stream is a
// protocol_error denial (`what` names the message being read).
asio::awaitable<void> read_exact(Stream& stream, asio::mutable_buffer buffer,
                                 std::string_view what = "message");

}  // namespace authchain
