// The Stream a finished TLS handshake yields: application data over the
// engine (engine.hpp), I/O on the inner stream.
//
// One reader and one writer may run at once (the pump does); both can
// produce bytes for the peer (a read may answer an alert), so writes to the
// inner stream are serialized by flush(). A raw end of stream without
// close_notify is a protocol_error (a truncation), as in the secure channel.
#pragma once

#include <asio/steady_timer.hpp>
#include <memory>
#include <string>
#include <vector>

#include <authchain/compose/stream.hpp>
#include <authchain/transport/detail/tls/engine.hpp>

namespace authchain::tls_detail {

// Writes what the engine queued for the peer, whoever queued it; at most one
// inner write at a time (others wait their turn, then find the queue drained).
class OutputGate {
public:
    explicit OutputGate(asio::any_io_executor executor);
    asio::awaitable<void> flush(Stream& inner, Engine& engine);

private:
    bool writing_ = false;
    asio::steady_timer turn_;
};

class TlsStream final : public StreamImpl {
public:
    TlsStream(Stream inner, std::unique_ptr<Engine> engine, Protection protection);

    asio::any_io_executor get_executor() override { return inner_.get_executor(); }
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override;
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override;
    // Ready at once when decrypted bytes or the peer's close are there;
    // else frees the drained plaintext buffer and waits on the inner stream.
    void async_wait_readable(ReadableCallback ready) override;
    // Sends close_notify, then half-closes the inner stream.
    asio::awaitable<void> shutdown_send() override;
    // Sends a fatal access_denied alert (the TLS way to say "refused").
    asio::awaitable<void> send_deny(DenyReason reason) override;
    void close() noexcept override { inner_.close(); }
    void abort() noexcept override { inner_.abort(); }
    asio::ip::tcp::endpoint remote_endpoint() const override { return inner_.remote_endpoint(); }
    asio::ip::tcp::endpoint local_endpoint() const override { return inner_.local_endpoint(); }
    Protection protection() const override { return protection_; }

    // Largest plaintext handed to the engine per write (4 TLS records).
    static constexpr std::size_t max_write = 4 * 16384;

private:
    Stream inner_;
    std::unique_ptr<Engine> engine_;
    Protection protection_;
    OutputGate gate_;
    // Up to four TLS records per inner read, into a buffer borrowed from the
    // per-thread pool for that read only (compose/buffer_pool.hpp).
    static constexpr std::size_t input_size = 4 * (16384 + 2048);
    std::size_t consumed_ = 0;  // of engine_->plaintext()
    bool send_closed_ = false;
};

}  // namespace authchain::tls_detail
