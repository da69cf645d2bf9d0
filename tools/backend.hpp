// Connecting the gate to what it protects (a TCP host:port or a Unix
// socket), and the tunnel to its gate, within a deadline.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>

#include "compose/stream.hpp"
#include "tools/config.hpp"

namespace authchain::tools {

// Connects to `endpoint` on the calling coroutine's executor. Throws
// std::system_error (refused, unreachable, no such socket file; timed_out
// once `limit` has passed) or std::invalid_argument (a Unix path too long
// for sockaddr_un).
asio::awaitable<Stream> connect_backend(const Endpoint& endpoint,
                                        std::chrono::milliseconds limit = std::chrono::seconds(10));

}  // namespace authchain::tools
