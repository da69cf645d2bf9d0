// SocketStream: the StreamImpl over any connected Asio stream socket (TCP,
// Unix). A plain byte stream: not confidential, no channel id, and no way
// to carry a deny reason (it carries someone else's protocol).
#pragma once

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdint>
#include <string>
#include <system_error>

#include <authchain/compose/stream.hpp>

namespace authchain {

template <class Socket>
class SocketStream final : public StreamImpl {
public:
    // `name` names the transport in protection() and in error messages.
    SocketStream(Socket socket, std::string name, asio::ip::tcp::endpoint remote,
                 asio::ip::tcp::endpoint local = {})
        : socket_(std::move(socket)), name_(std::move(name)), remote_(remote), local_(local) {}
    ~SocketStream() override { close(); }

    asio::any_io_executor get_executor() override { return socket_.get_executor(); }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        if (peeked_end_) co_return 0;
        auto [ec, n] = co_await socket_.async_read_some(buffer, as_tuple);
        if (ec == asio::error::eof) co_return 0;
        if (ec) throw std::system_error(ec, name_ + " read");
        co_return n;
    }

    // Peeks one byte (MSG_PEEK) rather than async_wait(wait_read): Asio's
    // epoll reactor is edge-triggered and a wait is never tried at once, so
    // a wait would miss bytes that arrived before it was queued; a peek is
    // tried at once and retried by the reactor on readiness. An end of
    // stream found so is remembered: the reactor would not try a read at
    // once after it, and no new edge comes.
    asio::awaitable<void> wait_readable() override {
        if (peeked_end_) co_return;
        std::uint8_t byte = 0;
        auto [ec, n] = co_await socket_.async_receive(asio::buffer(&byte, 1), Socket::message_peek, as_tuple);
        (void)n;
        if (ec == asio::error::eof) peeked_end_ = true;
        else if (ec) throw std::system_error(ec, name_ + " read");
    }

    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        auto [ec, n] = co_await socket_.async_write_some(buffer, as_tuple);
        if (ec) throw std::system_error(ec, name_ + " write");
        co_return n;
    }

    asio::awaitable<void> shutdown_send() override {
        std::error_code ec;
        socket_.shutdown(Socket::shutdown_send, ec);
        if (ec && ec != asio::error::not_connected) throw std::system_error(ec, name_ + " shutdown");
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
    std::string name_;
    asio::ip::tcp::endpoint remote_;
    asio::ip::tcp::endpoint local_;
    bool peeked_end_ = false;  // wait_readable saw the end of stream
};

}  // namespace authchain
