#include <authchain/transport/detail/tls/tls_stream.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <algorithm>
#include <cstring>
#include <vector>

#include <authchain/compose/buffer_pool.hpp>

namespace authchain::tls_detail {

OutputGate::OutputGate(asio::any_io_executor executor) : turn_(executor, asio::steady_timer::time_point::max()) {}

asio::awaitable<void> OutputGate::flush(Stream& inner, Engine& engine) {
    while (writing_) co_await turn_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    writing_ = true;
    try {
        while (!engine.output().empty()) {
            Botan::secure_vector<std::uint8_t> chunk;
            chunk.swap(engine.output());  // the engine may queue more while this is written
            co_await write_all(inner, asio::buffer(chunk.data(), chunk.size()));
        }
    } catch (...) {
        writing_ = false;
        turn_.cancel();
        throw;
    }
    writing_ = false;
    turn_.cancel();
}

TlsStream::TlsStream(Stream inner, std::unique_ptr<Engine> engine, Protection protection)
    : inner_(std::move(inner)),
      engine_(std::move(engine)),
      protection_(std::move(protection)),
      gate_(inner_.get_executor()) {}

asio::awaitable<std::size_t> TlsStream::read_some(asio::mutable_buffer buffer) {
    if (buffer.size() == 0) co_return 0;
    auto& plain = engine_->plaintext();
    while (consumed_ == plain.size()) {
        plain.clear();
        consumed_ = 0;
        if (engine_->peer_closed()) co_return 0;
        PooledBuffer input(input_size);
        const std::size_t n = co_await inner_.read_some(asio::buffer(input.data(), input.size()));
        if (n == 0) deny(DenyReason::protocol_error, "tls: end of stream without close_notify");
        try {
            engine_->received(ByteView(input.data(), n));
        } catch (const AuthenticationError&) {
            engine_->output().clear();
            throw;
        }
        input.release();
        if (!engine_->output().empty()) co_await gate_.flush(inner_, *engine_);
    }
    const std::size_t take = std::min(buffer.size(), plain.size() - consumed_);
    std::memcpy(buffer.data(), plain.data() + consumed_, take);
    consumed_ += take;
    co_return take;
}

void TlsStream::async_wait_readable(ReadableCallback ready) {
    auto& plain = engine_->plaintext();
    if (consumed_ < plain.size() || engine_->peer_closed()) return ready_now(std::move(ready));
    // Frees the drained plaintext buffer.
    plain.clear();
    plain.shrink_to_fit();
    consumed_ = 0;
    inner_.async_wait_readable(std::move(ready));
}

asio::awaitable<std::size_t> TlsStream::write_some(asio::const_buffer buffer) {
    if (send_closed_) deny(DenyReason::protocol_error, "tls: write after shutdown");
    if (!engine_->established()) deny(DenyReason::protocol_error, "tls: the connection is closed");
    const std::size_t take = std::min(buffer.size(), max_write);
    engine_->send(ByteView(static_cast<const std::uint8_t*>(buffer.data()), take));
    co_await gate_.flush(inner_, *engine_);
    co_return take;
}

asio::awaitable<void> TlsStream::shutdown_send() {
    if (send_closed_) co_return;
    send_closed_ = true;
    engine_->close();
    co_await gate_.flush(inner_, *engine_);
    co_await inner_.shutdown_send();
}

asio::awaitable<void> TlsStream::send_deny(DenyReason) {
    if (send_closed_) co_return;
    send_closed_ = true;
    engine_->send_access_denied();
    co_await gate_.flush(inner_, *engine_);
    co_await inner_.shutdown_send();
}

}  // namespace authchain::tls_detail
