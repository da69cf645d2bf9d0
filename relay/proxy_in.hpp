// Trusted PROXY v2 in: a gate behind an L4 balancer (HAProxy `send-proxy-v2`)
// learns the real client address from the header the balancer sends first.
//
// Only for connections from configured sources (HAProxy's spec: a receiver
// must be configured to expect the header and must never guess). The header
// is read exactly, never a byte past it, so what follows is the client's
// own stream, untouched.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstddef>
#include <optional>

#include <authchain/relay/proxy_v2.hpp>

namespace authchain {

// Reads one complete PROXY v2 header from `socket` within `limit`.
// Returns it (a LOCAL header, e.g. a balancer's health check, has
// header.local set and no addresses), or std::nullopt when the peer closed
// before sending a single byte (a balancer's TCP health check: connect,
// then close). Throws std::invalid_argument when the
// bytes are not a valid header (bad signature, version, command, family or
// lengths, longer than `max_size`), std::system_error on end of stream, an
// I/O error, or when `limit` passes (asio::error::timed_out); the socket is
// closed in every failing case.
asio::awaitable<std::optional<proxy_v2::Header>> read_proxy_header(asio::ip::tcp::socket& socket, std::chrono::milliseconds limit,
                                                    std::size_t max_size = 4096);

}  // namespace authchain
