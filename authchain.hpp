// authchain: composable authenticators in front of any TCP server.
// One include for applications; each header can also be included alone.
#pragma once

#include "compose/cidr.hpp"
#include "compose/combinators.hpp"
#include "compose/credentials.hpp"
#include "compose/error.hpp"
#include "compose/server.hpp"
#include "compose/session.hpp"
#include "compose/stream.hpp"
#include "transport/pipe.hpp"
#include "transport/tcp.hpp"
#include "auth/connection_limit.hpp"
#include "auth/failure_throttle.hpp"
#include "auth/ip_filter.hpp"
