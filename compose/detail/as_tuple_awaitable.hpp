#pragma once
// The completion token for an awaited operation whose error is a value to
// look at, not an exception: `auto [ec, n] = co_await op(..., as_tuple_awaitable)`.
#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

namespace authchain {

inline constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace authchain
