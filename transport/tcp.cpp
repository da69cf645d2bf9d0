#include <authchain/transport/tcp.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>

#include <authchain/transport/detail/socket_stream.hpp>

namespace authchain {


TcpListener::TcpListener(asio::any_io_executor executor, std::string_view address, std::uint16_t port,
                         int backlog)
    : acceptor_(executor) {
    std::error_code ec;
    auto addr = asio::ip::make_address(std::string(address), ec);
    if (ec) throw std::invalid_argument("listen address must be an IP literal: \"" + std::string(address) + "\"");
    asio::ip::tcp::endpoint endpoint(addr, port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (addr.is_v6()) acceptor_.set_option(asio::ip::v6_only(false), ec);
    acceptor_.bind(endpoint);
    acceptor_.listen(backlog);
}

asio::awaitable<Stream> TcpListener::accept() {
    auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
    co_return tcp_stream(std::move(socket));
}

void TcpListener::close() noexcept {
    std::error_code ec;
    acceptor_.close(ec);
}

asio::ip::tcp::endpoint TcpListener::local_endpoint() const { return acceptor_.local_endpoint(); }

Stream tcp_stream(asio::ip::tcp::socket socket) {
    std::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    auto remote = socket.remote_endpoint(ec);
    auto local = socket.local_endpoint(ec);
    return Stream(
        std::make_shared<SocketStream<asio::ip::tcp::socket>>(std::move(socket), "tcp", remote, local));
}

Stream tcp_stream(asio::ip::tcp::socket socket, asio::ip::tcp::endpoint remote, asio::ip::tcp::endpoint local) {
    std::error_code ec;
    socket.set_option(asio::ip::tcp::no_delay(true), ec);
    return Stream(
        std::make_shared<SocketStream<asio::ip::tcp::socket>>(std::move(socket), "tcp", remote, local));
}

void set_keepalive(asio::ip::tcp::socket& socket, std::chrono::seconds idle) {
    std::error_code ec;
    socket.set_option(asio::socket_base::keep_alive(true), ec);
    int idle_s = static_cast<int>(std::max<std::int64_t>(1, idle.count()));
    int interval = std::max(1, idle_s / 4), count = 4;
    int fd = socket.native_handle();
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof idle_s);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

asio::awaitable<Stream> tcp_connect(std::string host, std::uint16_t port) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                     asio::ip::resolver_base::numeric_service,
                                                     asio::use_awaitable);
    asio::ip::tcp::socket socket(executor);
    co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
    Stream stream = tcp_stream(std::move(socket));
    stream.trail()->set_dialled({std::move(host), port});
    co_return stream;
}

}  // namespace authchain
