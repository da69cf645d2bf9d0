// wait_for: awaits a callback. `arm(callback)` stores the callback where an
// event will find it, and the event calls it exactly once (a waiter of the
// multiplexed channel and its streams, relay/multiplex/).
//
//     co_await wait_for<void()>([&](std::function<void()> done) { waiter = std::move(done); });
//     co_await wait_for<void(std::exception_ptr)>(...);   // a non-null error is thrown
#pragma once

#include <asio/async_result.hpp>
#include <asio/awaitable.hpp>
#include <asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>

namespace authchain::detail {

template <class Signature, class Arm>
asio::awaitable<void> wait_for(Arm arm) {
    return asio::async_initiate<const asio::use_awaitable_t<>&, Signature>(
        [arm = std::move(arm)](auto handler) mutable {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            arm([shared](auto... args) { (*shared)(std::move(args)...); });
        },
        asio::use_awaitable);
}

}  // namespace authchain::detail
