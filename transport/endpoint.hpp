// Endpoint: the one address type of authchain. A TCP host:port (the host a
// literal address or a name to resolve) or a Unix socket path.
#pragma once

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace authchain {

struct Endpoint {
    std::string host{};
    std::uint16_t port = 0;
    std::filesystem::path unix_path{};  // set for a Unix socket; then host/port are unused

    bool is_unix() const { return !unix_path.empty(); }
    // "127.0.0.1:7000", "[::1]:7000" or "unix:/run/app.sock".
    std::string to_string() const;
};

// Parses "host:port", "[v6]:port" or ":port"/"port" (host `default_host`).
// Throws std::invalid_argument naming the text.
Endpoint parse_host_port(std::string_view text, std::string_view default_host = "127.0.0.1");

// "127.0.0.1:5555", "[::1]:5555": a connected or bound socket address.
std::string endpoint_text(const asio::ip::tcp::endpoint& e);

}  // namespace authchain
