#include <authchain/relay/connect.hpp>

#include <sys/un.h>

#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <stdexcept>
#include <vector>

#include <authchain/compose/deadline.hpp>
#include <authchain/transport/tcp.hpp>
#include <authchain/transport/unix_socket.hpp>
#include <authchain/compose/detail/as_tuple_awaitable.hpp>

namespace authchain {

namespace {

[[noreturn]] void timed_out(const Endpoint& endpoint) {
    throw std::system_error(asio::error::timed_out, "connect to " + endpoint.to_string());
}

// The sockets and the resolver are ours, so the deadline can close what is
// being awaited: a refusal is reported at once, a silent peer at the deadline.
asio::awaitable<Stream> connect_unix(const Endpoint& endpoint, std::chrono::milliseconds limit) {
    const auto& path = endpoint.unix_path;
    if (path.native().size() >= sizeof(sockaddr_un{}.sun_path))
        throw std::invalid_argument("unix socket path too long: " + path.string());
    auto executor = co_await asio::this_coro::executor;
    asio::local::stream_protocol::socket socket(executor);
    Deadline deadline(executor, limit, [&socket] {
        std::error_code ignored;
        socket.close(ignored);
    });
    const asio::local::stream_protocol::endpoint target(path.string());
    auto [ec] = co_await socket.async_connect(target, as_tuple_awaitable);
    if (deadline.expired()) timed_out(endpoint);
    if (ec) throw std::system_error(ec, "connect to unix:" + path.string());
    deadline.cancel();
    co_return unix_stream(std::move(socket));
}

asio::awaitable<Stream> connect_tcp(const Endpoint& endpoint, std::chrono::milliseconds limit,
                                    std::chrono::seconds keepalive) {
    auto executor = co_await asio::this_coro::executor;
    asio::ip::tcp::resolver resolver(executor);
    asio::ip::tcp::socket socket(executor);
    Deadline deadline(executor, limit, [&resolver, &socket] {
        std::error_code ignored;
        resolver.cancel();
        socket.close(ignored);
    });
    std::vector<asio::ip::tcp::endpoint> targets;
    std::error_code literal_ec;
    auto literal = asio::ip::make_address(endpoint.host, literal_ec);
    if (!literal_ec) {
        // An IP literal: no resolver, whose thread would cost two thread
        // hops on every connection (measured: the usual gate and tunnel case).
        targets.emplace_back(literal, endpoint.port);
    } else {
        const std::string service = std::to_string(endpoint.port);
        auto [resolve_ec, results] = co_await resolver.async_resolve(
            endpoint.host, service, asio::ip::resolver_base::numeric_service, as_tuple_awaitable);
        if (deadline.expired()) timed_out(endpoint);
        if (resolve_ec) throw std::system_error(resolve_ec);
        for (const auto& entry : results) targets.push_back(entry.endpoint());
    }
    // Each resolved address in turn, as asio::async_connect would, but
    // stopping at the deadline instead of moving on to the next address.
    std::error_code ec = asio::error::host_not_found;
    for (const auto& target : targets) {
        std::error_code ignored;
        socket.close(ignored);
        socket.open(target.protocol(), ec);
        if (ec) continue;
        if (keepalive.count() > 0) set_keepalive(socket, keepalive);  // before connecting: Linux keeps them
        std::tie(ec) = co_await socket.async_connect(target, as_tuple_awaitable);
        if (deadline.expired()) timed_out(endpoint);
        if (!ec) break;
    }
    if (ec) throw std::system_error(ec);
    deadline.cancel();
    Stream stream = tcp_stream(std::move(socket));
    stream.trail()->set_dialled({endpoint.host, endpoint.port});  // as tcp_connect does
    co_return stream;
}

}  // namespace

asio::awaitable<Stream> connect_to(const Endpoint& endpoint, std::chrono::milliseconds limit,
                                   std::chrono::seconds keepalive) {
    if (endpoint.is_unix()) co_return co_await connect_unix(endpoint, limit);
    co_return co_await connect_tcp(endpoint, limit, keepalive);
}

}  // namespace authchain
