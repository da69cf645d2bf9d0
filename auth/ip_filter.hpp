// ip_filter: allow and deny lists of CIDR blocks, checked before anything else.
//
// Deny wins over allow. An empty allow list allows every address not
// denied. IPv4-mapped IPv6 peers (::ffff:a.b.c.d) are matched as IPv4.
// A refused peer gets DenyReason::host_blocked.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <authchain/compose/cidr.hpp>
#include <authchain/compose/session.hpp>

namespace authchain {

struct IpFilterOptions {
    std::vector<std::string> allow{};  // CIDR blocks or addresses
    std::vector<std::string> deny{};
};

// What IpFilter throws for a malformed block: Cidr::parse's message (it names
// the bad text) and the list that holds it, "allow" or "deny".
struct IpFilterError : std::invalid_argument {
    IpFilterError(std::string list, const std::invalid_argument& cause)
        : std::invalid_argument(cause.what()), list(std::move(list)) {}
    std::string list;
};

// Parses every block at construction: a malformed CIDR throws IpFilterError.
class IpFilter {
public:
    explicit IpFilter(const IpFilterOptions& options);
    // Empty string if `address` may pass, else the local reason.
    std::string refusal(const asio::ip::address& address) const;

private:
    std::vector<Cidr> allow_, deny_;
};

Authenticator ip_filter(IpFilterOptions options);

}  // namespace authchain
