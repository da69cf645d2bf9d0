// An IP address from its text, for tests that feed addresses to checks.
#pragma once

#include <asio/ip/address.hpp>

namespace authchain::test {

inline asio::ip::address ip(const char* text) { return asio::ip::make_address(text); }

}  // namespace authchain::test
