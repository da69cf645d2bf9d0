// connection_limit: at most n sessions at once through this layer, and at
// most a share of them from any one source.
//
// A session holds its slot from the moment it passes this layer until its
// stream (and every stream stacked on it) is gone, i.e. for the whole
// connection, not only the handshake. One more is refused with busy.
//
// A source is an IPv4 address or an IPv6 /64 (compose/cidr.hpp source_of;
// an IPv4-mapped address counts as IPv4). One source may hold at most
// `max_per_source` of the slots, so a flood from one address leaves the
// rest to everyone else (DESIGN rule 9); past its share it is refused with
// busy while other sources still get in. 0, the default, means
// max_sessions / 2, at least 1 (512 of 1024): half, because a tunnel brings
// all its sessions from one address. Pass max_sessions to let one
// source take every slot.
#pragma once

#include <cstddef>

#include <authchain/compose/session.hpp>

namespace authchain {

Authenticator connection_limit(std::size_t max_sessions, std::size_t max_per_source = 0);

}  // namespace authchain
