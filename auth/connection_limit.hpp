// connection_limit: at most n sessions at once through this layer.
//
// A session holds its slot from the moment it passes this layer until its
// stream (and every stream stacked on it) is gone, i.e. for the whole
// connection, not only the handshake. One more is refused with busy.
#pragma once

#include <cstddef>

#include "compose/session.hpp"

namespace authchain {

Authenticator connection_limit(std::size_t max_sessions);

}  // namespace authchain
