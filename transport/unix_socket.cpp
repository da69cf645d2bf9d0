#include <authchain/transport/unix_socket.hpp>

#include <sys/un.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>

#include <authchain/transport/detail/socket_stream.hpp>
#include <authchain/compose/detail/as_tuple_awaitable.hpp>

namespace authchain {

namespace {

}  // namespace

Stream unix_stream(asio::local::stream_protocol::socket socket) {
    using Impl = SocketStream<asio::local::stream_protocol::socket>;
    return Stream(std::make_shared<Impl>(std::move(socket), "unix", asio::ip::tcp::endpoint{}));
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
