// Stream: the seam between layers. A type-erased, move-only byte stream.
//
// A plain TCP socket, a secure channel, a TLS stream and the in-memory test
// pipe are all Streams. A transport implements StreamImpl; a layer that
// wraps a stream (encryption) builds its impl around the inner Stream with
// Stream::wrap, so the whole stack stays one connection.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "compose/bytes.hpp"
#include "compose/credentials.hpp"
#include "compose/error.hpp"

namespace authchain {

// What a stream guarantees about the bytes it carries.
struct Protection {
    bool confidential = false;        // an eavesdropper cannot read the bytes
    bool peer_authenticated = false;  // the transport itself proved the peer
    Bytes channel_id;                 // unique per connection; empty if none
    std::string transport;            // e.g. "tcp", "Noise_NN_25519_AESGCM_SHA256"
};

// The interface a transport implements. All operations are awaited on the
// stream's executor; a stream is used by one reader and one writer at a time.
class StreamImpl {
public:
    virtual ~StreamImpl() = default;

    virtual asio::any_io_executor get_executor() = 0;
    // Reads at least one byte into `buffer`; returns 0 at a clean end of
    // stream. Throws std::system_error on I/O errors and AuthenticationError
    // (protocol_error) when the peer sends bytes the transport rejects.
    virtual asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) = 0;
    // Writes at least one byte of `buffer`; returns how many were written.
    virtual asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) = 0;
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
};


// Per-connection state shared by every Stream of one stack: the top stream
// (to send a deny on and to close), the handshake's progress (for the audit
// of a denied attempt), and objects kept alive while any Stream of the
// connection lives (e.g. a connection_limit slot). Use it from the
// connection's strand.
class ConnectionTrail {
public:
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

private:
    friend class Stream;
    void set_top(const std::shared_ptr<StreamImpl>& impl);

    std::weak_ptr<StreamImpl> top_;
    bool pinned_ = false;
    std::shared_ptr<StreamImpl> pinned_top_;  // null unless pinned_
    std::shared_ptr<const ProofLog> progress_;
    std::vector<std::shared_ptr<void>> held_;
};

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

    asio::any_io_executor get_executor() const { return impl_->get_executor(); }
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer);
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer);
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
