// authchain: composable authenticators in front of any TCP server.
// One include for applications; each header can also be included alone.
#pragma once

// What a program around a chain needs from Asio.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include "compose/any_of.hpp"
#include "compose/cidr.hpp"
#include "compose/combinators.hpp"
#include "compose/credentials.hpp"
#include "compose/deadline.hpp"
#include "compose/listener.hpp"
#include "compose/error.hpp"
#include "compose/server.hpp"
#include "compose/session.hpp"
#include "compose/stream.hpp"
#include "compose/wrapper.hpp"
#include "transport/endpoint.hpp"
#include "transport/secure_channel.hpp"
#include "transport/tcp.hpp"
#include "transport/tls.hpp"
#include "auth/connection_limit.hpp"
#include "auth/failure_throttle.hpp"
#include "auth/ip_filter.hpp"
#include "auth/psk.hpp"
#include "auth/password.hpp"
#include "auth/public_key.hpp"
#include "auth/tls_ca.hpp"
#include "auth/tls_files.hpp"
#include "auth/tls_peer.hpp"
#include "relay/connect.hpp"
#include "relay/forward.hpp"
#include "relay/live_forwards.hpp"
#include "relay/proxy_v2.hpp"
#include "relay/pump.hpp"
