#include <authchain/relay/loop_listener.hpp>

#include <asio/ip/v6_only.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>
#include <string>

#include <authchain/transport/tcp.hpp>

namespace authchain {

namespace {

asio::ip::tcp::acceptor bind_tcp(asio::any_io_executor executor, std::string_view address, std::uint16_t port,
                                 int backlog) {
    std::error_code ec;
    auto addr = asio::ip::make_address(std::string(address), ec);
    if (ec) throw std::invalid_argument("listen address must be an IP literal: \"" + std::string(address) + "\"");
    asio::ip::tcp::endpoint endpoint(addr, port);
    asio::ip::tcp::acceptor acceptor(executor);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (addr.is_v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
    acceptor.bind(endpoint);
    acceptor.listen(backlog);
    return acceptor;
}

}  // namespace

LoopListener::LoopListener(asio::any_io_executor executor, std::string_view address, std::uint16_t port,
                           int backlog)
    : acceptor_(bind_tcp(std::move(executor), address, port, backlog)) {}

LoopListener::LoopListener(asio::ip::tcp::acceptor acceptor) : acceptor_(std::move(acceptor)) {}

asio::awaitable<Stream> LoopListener::accept() {
    auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
    co_return tcp_stream(std::move(socket));
}

asio::awaitable<Stream> LoopListener::accept_on(EventLoops& loops) {
    // The socket is opened on the loop's io_context: its reactor registers it.
    asio::any_io_executor loop = loops.next();
    auto socket = co_await acceptor_.async_accept(loop, asio::use_awaitable);
    co_return tcp_stream(std::move(socket));
}

void LoopListener::close() noexcept {
    std::error_code ec;
    acceptor_.close(ec);
}

asio::ip::tcp::endpoint LoopListener::local_endpoint() const { return acceptor_.local_endpoint(); }

}  // namespace authchain
