// ip_filter: allow and deny lists of CIDR blocks, checked before anything else.
//
// Deny wins over allow. An empty allow list allows every address not
// denied. IPv4-mapped IPv6 peers (::ffff:a.b.c.d) are matched as IPv4.
// A refused peer gets DenyReason::host_blocked.
#pragma once

#include <string>
#include <vector>

#include "compose/cidr.hpp"
#include "compose/session.hpp"

namespace authchain {

struct IpFilterOptions {
    std::vector<std::string> allow;  // CIDR blocks or addresses
    std::vector<std::string> deny;
};

// Parses every block at construction: a malformed CIDR throws
// std::invalid_argument naming the bad text.
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
