// Writes a whole message and half-closes: what a scripted peer sends last.
#pragma once

#include <string>

#include <authchain/compose/stream.hpp>

namespace authchain::test {

// Writes all of `data` to `s`, then ends its sending side.
inline asio::awaitable<void> send_and_finish(Stream& s, std::string data) {
    co_await write_all(s, asio::buffer(data));
    co_await s.shutdown_send();
}

}  // namespace authchain::test
