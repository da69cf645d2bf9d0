// OpenSSH pattern lists, with the semantics of OpenSSH's match.c and
// addrmatch.c (match_pattern, match_pattern_list, match_hostname,
// addr_match_list, match_host_and_ip), used by known_hosts host fields and
// authorized_keys from="...".
//
// A pattern is text with `*` (any run of characters, also empty) and `?`
// (exactly one character). A list is comma-separated patterns, each
// optionally preceded by `!`: a negated pattern that matches makes the whole
// list fail, whatever else matches.
#pragma once

#include <asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace authchain::openssh {

// True when `text` matches the whole `pattern` (`*`, `?`; case-sensitive).
// Linear-space, O(len(text) * len(pattern)) time (no exponential backtracking).
bool match_pattern(std::string_view text, std::string_view pattern);

enum class ListMatch {
    none,      // no pattern matched
    positive,  // some pattern matched and no negated pattern did
    negated,   // a negated pattern matched: the list refuses
};

// OpenSSH match_pattern_list. With `lowercase`, the patterns are lowered
// before matching (`text` is used as given). A sub-pattern of 1023
// characters or more makes the result `none`, as in OpenSSH.
ListMatch match_pattern_list(std::string_view text, std::string_view list, bool lowercase);

// OpenSSH match_hostname: `host` and the patterns compared in lower case.
ListMatch match_hostname(std::string_view host, std::string_view list);

enum class AddressListMatch { none, positive, negated, invalid };

// OpenSSH addr_match_list: each entry that parses as an address or
// address/prefix is a CIDR block (a prefix too long for the family, or host
// bits set after the prefix, make the whole list `invalid`, as does an empty
// entry); any other entry is a wildcard pattern matched against the address
// text. IPv4-mapped IPv6 addresses are matched as IPv4.
AddressListMatch match_address_list(const asio::ip::address& address, std::string_view list);

// Why `list` would be `invalid` for every address, or nullopt if it is
// well-formed (OpenSSH addr_match_list with a NULL address).
std::optional<std::string> address_list_error(std::string_view list);

// authorized_keys from="list" for a peer, as OpenSSH match_host_and_ip with
// the host name taken to be the address text: host names are NOT resolved
// (OpenSSH "UseDNS no"), so a name pattern matches only if it matches the
// address text. True only on a positive match with no negated match and a
// well-formed list.
bool match_from(const asio::ip::address& peer, std::string_view list);

}  // namespace authchain::openssh
