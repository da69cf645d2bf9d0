// Connecting to an Endpoint (a TCP host:port or a Unix socket) within a
// deadline: the gate to its backend, the tunnel to its gate.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>

#include <authchain/compose/stream.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain {

// Connects to `endpoint` on the calling coroutine's executor; a TCP socket
// gets TCP keepalive when `keepalive` is not zero (set_keepalive). Throws
// std::system_error (refused, unreachable, no such socket file; timed_out
// once `limit` has passed) or std::invalid_argument (a Unix path too long
// for sockaddr_un). A TCP stream records host and port as dialled
// (Stream::dialled()), as tcp_connect does.
asio::awaitable<Stream> connect_to(const Endpoint& endpoint,
                                        std::chrono::milliseconds limit = std::chrono::seconds(10),
                                        std::chrono::seconds keepalive = {});

}  // namespace authchain
