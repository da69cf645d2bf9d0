#include "transport/unix_socket.hpp"

#include <sys/un.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>

namespace authchain {

namespace {

constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

class UnixStream final : public StreamImpl {
public:
    explicit UnixStream(asio::local::stream_protocol::socket socket) : socket_(std::move(socket)) {}
    ~UnixStream() override { close(); }

    asio::any_io_executor get_executor() override { return socket_.get_executor(); }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        auto [ec, n] = co_await socket_.async_read_some(buffer, as_tuple_awaitable);
        if (ec == asio::error::eof) co_return 0;
        if (ec) throw std::system_error(ec, "unix read");
        co_return n;
    }

    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        auto [ec, n] = co_await socket_.async_write_some(buffer, as_tuple_awaitable);
        if (ec) throw std::system_error(ec, "unix write");
        co_return n;
    }

    asio::awaitable<void> shutdown_send() override {
        std::error_code ec;
        socket_.shutdown(asio::local::stream_protocol::socket::shutdown_send, ec);
        if (ec && ec != asio::error::not_connected) throw std::system_error(ec, "unix shutdown");
        co_return;
    }

    void close() noexcept override {
        std::error_code ec;
        socket_.close(ec);
    }

    asio::ip::tcp::endpoint remote_endpoint() const override { return {}; }

    Protection protection() const override {
        Protection p;
        p.transport = "unix";
        return p;
    }

private:
    asio::local::stream_protocol::socket socket_;
};

}  // namespace

Stream unix_stream(asio::local::stream_protocol::socket socket) {
    return Stream(std::make_shared<UnixStream>(std::move(socket)));
}

asio::awaitable<Stream> unix_connect(std::filesystem::path path) {
    if (path.native().size() >= sizeof(sockaddr_un{}.sun_path))
        throw std::invalid_argument("unix socket path too long: " + path.string());
    auto executor = co_await asio::this_coro::executor;
    asio::local::stream_protocol::socket socket(executor);
    auto [ec] = co_await socket.async_connect(asio::local::stream_protocol::endpoint(path.string()),
                                              as_tuple_awaitable);
    if (ec) throw std::system_error(ec, "connect to unix:" + path.string());
    co_return unix_stream(std::move(socket));
}

}  // namespace authchain
