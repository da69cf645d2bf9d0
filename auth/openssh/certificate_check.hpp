// What a gate (sshd's rules, fail closed) and a client (ssh's rules)
// require of a certificate before it is believed. Pure: the caller passes
// the time and the peer. Each check returns why it refuses, for the audit
// detail, or nullopt. None of them verifies the signature: the caller does
// that last (Certificate::verify_signature), after these cheap checks.
#pragma once

#include <authchain/auth/openssh/certificate.hpp>

#include <asio/ip/address.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authchain::openssh {

// Seconds since the epoch, as certificates count time.
std::uint64_t certificate_now();

// Why `now` is outside [valid_after, valid_before), or nullopt.
std::optional<std::string> validity_refusal(const Certificate& cert, std::uint64_t now);

// A user certificate presented to the gate for `user`, matched by an
// authorized_keys cert-authority line (`line_principals`: its
// principals="a,b" list, or nullopt). Refused unless:
//   - it is a user certificate, and now is inside its validity window;
//   - its principals are not empty (as OpenSSH 10.3);
//   - without principals=: `user` is one of its principals; with it: one
//     of the line's names is one of its principals;
//   - every critical option is known and satisfied: source-address (a
//     comma-separated CIDR list) must contain `peer`; force-command and
//     verify-required mean nothing to a gate, so they refuse (fail closed);
//     any other critical option refuses.
// Extensions are ignored, as sshd ignores unknown ones.
std::optional<std::string> user_certificate_refusal(const Certificate& cert, std::string_view user,
                                                    const std::optional<std::vector<std::string>>& line_principals,
                                                    const asio::ip::address& peer, std::uint64_t now);

// A host certificate presented by a gate reached as `host_name` (the name
// dialled, without port). Refused unless it is a host certificate, valid
// now, and `host_name` is one of its principals (case-insensitive, as
// OpenSSH; an empty principal list never matches); critical options are
// refused (none is defined for host certificates).
std::optional<std::string> host_certificate_refusal(const Certificate& cert, std::string_view host_name,
                                                    std::uint64_t now);

}  // namespace authchain::openssh
