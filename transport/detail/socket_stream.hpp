// SocketStream: the StreamImpl over any connected Asio stream socket (TCP,
// Unix). A plain byte stream: not confidential, no channel id, and no way
// to carry a deny reason (it carries someone else's protocol).
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>
#include <string>
#include <system_error>

#include <authchain/compose/stream.hpp>

namespace authchain {

template <class Socket>
class SocketStream final : public StreamImpl {
public:
    // `name`, a string literal ("tcp"), names the transport in protection()
    // and in error messages.
    SocketStream(Socket socket, const char* name, asio::ip::tcp::endpoint remote,
                 asio::ip::tcp::endpoint local = {})
        : socket_(std::move(socket)), name_(name), remote_(remote), local_(local) {}
    ~SocketStream() override { close(); }

    asio::any_io_executor get_executor() override { return socket_.get_executor(); }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        if (const std::optional<std::size_t> n = take_known(buffer)) co_return *n;
        auto [ec, n] = co_await socket_.async_read_some(buffer, as_tuple);
        if (ec == asio::error::eof || (!ec && n == 0 && buffer.size() > 0)) {
            peeked_end_ = true;  // read_some after the end returns 0 again (the reactor would not retry)
            co_return 0;
        }
        if (ec) throw std::system_error(ec, std::string(name_) + " read");
        co_return n;
    }

    // Reads what is there (up to 128 bytes) into a small buffer of the
    // stream's own, rather than async_wait(wait_read): Asio's epoll reactor
    // is edge-triggered and a wait is never tried at once, so a wait would
    // miss bytes that arrived before it was queued; a read is tried at once
    // and retried by the reactor on readiness. A short message (a request, a
    // small record) so takes one recv, not a peek and a recv; read_some hands
    // those bytes out first. An end of stream found so is remembered: the
    // reactor would not try a read at once after it, and no new edge comes.
    // An error is kept for read_some too.
    void async_wait_readable(ReadableCallback ready) override {
        if (peeked_end_ || pending_error_ || early_begin_ < early_end_)
            return ready_now(std::move(ready), pending_exception());
        socket_.async_receive(asio::buffer(early_), 0,
                              [this, ready = std::move(ready)](std::error_code ec, std::size_t n) {
                                  if (ec == asio::error::eof || (!ec && n == 0)) {
                                      peeked_end_ = true;
                                  } else if (ec) {
                                      pending_error_ = ec;
                                  } else {
                                      early_begin_ = 0;
                                      early_end_ = static_cast<std::uint16_t>(n);
                                  }
                                  ready(pending_exception());
                              });
    }

    // The bytes wait_readable read first, else a non-blocking recv.
    std::optional<std::size_t> try_read_some(asio::mutable_buffer buffer) override {
        if (const std::optional<std::size_t> n = take_known(buffer)) return n;
        if (buffer.size() == 0) return 0;
        std::error_code ec = make_non_blocking();
        if (ec) return std::nullopt;
        const std::size_t n = socket_.receive(buffer, 0, ec);
        if (ec == asio::error::eof || (!ec && n == 0)) {
            peeked_end_ = true;
            return 0;
        }
        if (ec == asio::error::would_block || ec == asio::error::try_again) return std::nullopt;
        if (ec) throw std::system_error(ec, std::string(name_) + " read");
        return n;
    }

    // A non-blocking send; nullopt when the socket buffer is full.
    std::optional<std::size_t> try_write_some(asio::const_buffer buffer) override {
        if (buffer.size() == 0) return 0;
        std::error_code ec = make_non_blocking();
        if (ec) return std::nullopt;
        const std::size_t n = socket_.write_some(buffer, ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return std::nullopt;
        if (ec) throw std::system_error(ec, std::string(name_) + " write");
        return n;
    }

    // Tries a non-blocking send first and returns at once when it took
    // bytes: a write that fits the socket buffer (nearly every one) so
    // completes without a trip through the event loop. Asio's own
    // async_write_some would also send at once, but it posts its completion,
    // and every posted completion costs the loop another epoll_wait (with a
    // zero timeout) before the coroutine resumes. Only a full socket buffer
    // (would_block) waits for writability.
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        if (auto n = try_write_some(buffer)) co_return *n;
        auto [error, n] = co_await socket_.async_write_some(buffer, as_tuple);
        if (error) throw std::system_error(error, std::string(name_) + " write");
        co_return n;
    }

    asio::awaitable<void> shutdown_send() override {
        std::error_code ec;
        socket_.shutdown(Socket::shutdown_send, ec);
        if (ec && ec != asio::error::not_connected) throw std::system_error(ec, std::string(name_) + " shutdown");
        co_return;
    }

    void close() noexcept override {
        std::error_code ec;
        socket_.close(ec);
    }

    // TCP: the peer gets an RST (ECONNRESET), not a FIN. On a Unix socket
    // SO_LINGER 0 changes nothing: the peer sees an end of stream.
    void abort() noexcept override {
        std::error_code ec;
        if (socket_.is_open()) socket_.set_option(asio::socket_base::linger(true, 0), ec);
        socket_.close(ec);
    }

    asio::ip::tcp::endpoint remote_endpoint() const override { return remote_; }
    asio::ip::tcp::endpoint local_endpoint() const override { return local_; }
    Protection protection() const override { return {.transport = name_}; }

private:
    static constexpr auto as_tuple = asio::experimental::as_tuple(asio::use_awaitable);
    Socket socket_;
    const char* name_;
    asio::ip::tcp::endpoint remote_;
    asio::ip::tcp::endpoint local_;
    // The bytes wait_readable read first. Handed out, then, if they filled
    // the buffer (more is likely waiting), followed at once by what a
    // non-blocking read finds, so bulk transfers take no extra wakeup.
    std::size_t take_early(asio::mutable_buffer buffer) {
        const bool was_full = early_end_ == early_.size();
        std::size_t n = asio::buffer_copy(buffer, asio::buffer(early_.data() + early_begin_, early_end_ - early_begin_));
        early_begin_ = static_cast<std::uint16_t>(early_begin_ + n);
        if (early_begin_ < early_end_ || !was_full || n == buffer.size()) return n;
        early_begin_ = early_end_ = 0;
        std::error_code ec = make_non_blocking();
        std::size_t more = ec ? 0 : socket_.receive(buffer + n, 0, ec);
        if (ec == asio::error::eof) peeked_end_ = true;
        else if (ec && ec != asio::error::would_block && ec != asio::error::try_again) pending_error_ = ec;
        return n + (ec ? 0 : more);
    }

    // What a read returns without touching the socket: the early bytes, a
    // pending error (thrown), or the end already seen; nullopt otherwise.
    std::optional<std::size_t> take_known(asio::mutable_buffer buffer) {
        if (early_begin_ < early_end_) return take_early(buffer);
        if (pending_error_) throw std::system_error(std::exchange(pending_error_, {}), std::string(name_) + " read");
        if (peeked_end_) return 0;
        return std::nullopt;
    }

    // The synchronous reads and writes here must never block the loop.
    std::error_code make_non_blocking() {
        std::error_code ec;
        if (!socket_.non_blocking()) socket_.non_blocking(true, ec);
        return ec;
    }

    std::exception_ptr pending_exception() const {
        if (!pending_error_) return nullptr;
        return std::make_exception_ptr(std::system_error(pending_error_, std::string(name_) + " read"));
    }

    bool peeked_end_ = false;  // a read saw the end of stream
    std::error_code pending_error_{};  // a read after the early bytes failed: reported by the next read_some
    std::array<std::uint8_t, 128> early_{};
    std::uint16_t early_begin_ = 0, early_end_ = 0;
};

}  // namespace authchain
