#include <authchain/relay/pump.hpp>

#include <asio/this_coro.hpp>

#include <authchain/compose/detail/as_tuple_awaitable.hpp>
#include <authchain/relay/detail/relay.hpp>

namespace authchain {

std::string_view to_string(PumpSide side) {
    switch (side) {
        case PumpSide::a: return "a";
        case PumpSide::b: return "b";
        case PumpSide::none: break;
    }
    return "none";
}

asio::awaitable<PumpSummary> pump(Stream& a, Stream& b, PumpOptions options) {
    detail::Relay relay(a, b, options, co_await asio::this_coro::executor);
    relay.start();
    if (relay.running()) co_await relay.done().async_wait(as_tuple_awaitable);
    co_return std::move(relay.summary());
}

}  // namespace authchain
