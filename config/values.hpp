// Values a config file spells as text: durations and endpoints.
// Pure functions (no I/O), fuzzed by tests/fuzz/fuzz_config_values.cpp.
#pragma once

#include <chrono>
#include <string_view>

#include "config/config.hpp"

namespace authchain::config {

// "500ms", "10s", "5m", "2h" (one integer of at most 9 digits and a unit).
// Throws std::invalid_argument saying what is wrong.
std::chrono::milliseconds parse_duration(std::string_view text);

// How an endpoint is used, which decides the forms it may take.
enum class EndpointRole {
    listen,   // "127.0.0.1:7000", "[::1]:7000", ":7000" (host 127.0.0.1); literal IP only
    connect,  // "host:port" or "[v6]:port"; a host name is allowed; port 1..65535
    backend,  // as connect, or "unix:PATH", or an absolute path (a Unix socket)
};

// Parses `text` for `role`. A Unix path is returned as written (a relative
// "unix:" path is resolved by the caller). Throws std::invalid_argument.
Endpoint parse_endpoint(std::string_view text, EndpointRole role);

}  // namespace authchain::config
