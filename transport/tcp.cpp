#include "transport/tcp.hpp"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <stdexcept>

#include "transport/socket_stream.hpp"

namespace authchain {


std::string HostPort::to_string() const {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

HostPort parse_host_port(std::string_view text, std::string_view default_host) {
    auto bad = [&](std::string_view why) {
        return std::invalid_argument("invalid address \"" + std::string(text) + "\": " + std::string(why));
    };
    HostPort out;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) throw bad("missing ']'");
        out.host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (rest.empty() || rest.front() != ':') throw bad("expected :port after ']'");
        port_text = rest.substr(1);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            port_text = text;
        } else {
            if (text.find(':') != colon) throw bad("IPv6 addresses need brackets: [::1]:port");
            out.host = std::string(text.substr(0, colon));
            port_text = text.substr(colon + 1);
        }
    }
    if (out.host.empty()) out.host = std::string(default_host);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
        throw bad("port must be a number from 0 to 65535");
    out.port = static_cast<std::uint16_t>(port);
    return out;
}

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

asio::awaitable<Stream> tcp_connect(std::string host, std::uint16_t port) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    auto endpoints = co_await resolver.async_resolve(host, std::to_string(port),
                                                     asio::ip::resolver_base::numeric_service,
                                                     asio::use_awaitable);
    asio::ip::tcp::socket socket(executor);
    co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
    co_return tcp_stream(std::move(socket));
}

}  // namespace authchain
