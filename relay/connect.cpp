#include "relay/connect.hpp"

#include <asio/co_spawn.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "transport/tcp.hpp"
#include "transport/unix_socket.hpp"

namespace authchain {

namespace {

asio::awaitable<Stream> connect_now(Endpoint endpoint) {
    if (endpoint.is_unix()) co_return co_await unix_connect(endpoint.unix_path);
    co_return co_await tcp_connect(endpoint.host, endpoint.port);
}

}  // namespace

asio::awaitable<Stream> connect_to(const Endpoint& endpoint, std::chrono::milliseconds limit) {
    auto executor = co_await asio::this_coro::executor;
    asio::steady_timer timer(executor, limit);
    // Whichever ends first wins: a refusal is reported at once, not at the deadline.
    auto [order, failure, stream, timer_ec] =
        co_await asio::experimental::make_parallel_group(
            asio::co_spawn(executor, connect_now(endpoint), asio::experimental::deferred),
            timer.async_wait(asio::experimental::deferred))
            .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
    (void)timer_ec;
    if (order[0] == 1) throw std::system_error(asio::error::timed_out, "connect to " + endpoint.to_string());
    if (failure) std::rethrow_exception(failure);
    co_return std::move(stream);
}

}  // namespace authchain
