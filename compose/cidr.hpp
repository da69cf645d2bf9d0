// Addresses and CIDR blocks, shared by ip_filter and authorized_keys from=.
#pragma once

#include <asio/ip/address.hpp>
#include <string>
#include <string_view>

namespace authchain {

// An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address;
// anything else is returned unchanged.
asio::ip::address normalize(const asio::ip::address& address);

// The source an address counts as, for per-source shares and throttles:
// an IPv4 address is itself (a mapped one first becomes IPv4); an IPv6
// address is its /64 (the rest zeroed), since one host or subscriber
// usually holds a whole /64 and can pick any address in it.
asio::ip::address source_of(const asio::ip::address& address);

class Cidr {
public:
    // "10.0.0.0/8", "2001:db8::/32", or a bare address (/32 or /128).
    // IPv4-mapped IPv6 blocks (::ffff:0:0/96 and longer) are stored as IPv4.
    // Throws std::invalid_argument naming the text when malformed, when the
    // prefix is out of range, or when host bits are set ("10.0.0.1/8").
    static Cidr parse(std::string_view text);

    bool contains(const asio::ip::address& address) const;
    std::string to_string() const;
    const asio::ip::address& network() const noexcept { return network_; }
    unsigned prefix() const noexcept { return prefix_; }

private:
    asio::ip::address network_;
    unsigned prefix_ = 0;
};

}  // namespace authchain
