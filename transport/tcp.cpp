#include "transport/tcp.hpp"

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <charconv>
#include <stdexcept>

namespace authchain {

namespace {

class TcpStream final : public StreamImpl {
public:
    explicit TcpStream(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
        std::error_code ec;
        socket_.set_option(asio::ip::tcp::no_delay(true), ec);
        remote_ = socket_.remote_endpoint(ec);
    }
    ~TcpStream() override { close(); }

    asio::any_io_executor get_executor() override { return socket_.get_executor(); }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        auto [ec, n] = co_await socket_.async_read_some(buffer, as_tuple_awaitable);
        if (ec == asio::error::eof) co_return 0;
        if (ec) throw std::system_error(ec, "tcp read");
        co_return n;
    }

    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        auto [ec, n] = co_await socket_.async_write_some(buffer, as_tuple_awaitable);
        if (ec) throw std::system_error(ec, "tcp write");
        co_return n;
    }

    asio::awaitable<void> shutdown_send() override {
        std::error_code ec;
        socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
        if (ec && ec != asio::error::not_connected) throw std::system_error(ec, "tcp shutdown");
        co_return;
    }

    void close() noexcept override {
        std::error_code ec;
        socket_.close(ec);
    }

    asio::ip::tcp::endpoint remote_endpoint() const override { return remote_; }

    Protection protection() const override { return {.transport = "tcp"}; }

private:
    static constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
    asio::ip::tcp::socket socket_;
    asio::ip::tcp::endpoint remote_;
};

}  // namespace

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
    return Stream(std::make_shared<TcpStream>(std::move(socket)));
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
