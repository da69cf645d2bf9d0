// authchain: composable authenticators in front of any TCP server.
// One include for applications; each header can also be included alone.
#pragma once

// What a program around a chain needs from Asio.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <authchain/compose/any_of.hpp>
#include <authchain/compose/cidr.hpp>
#include <authchain/compose/combinators.hpp>
#include <authchain/compose/credentials.hpp>
#include <authchain/compose/deadline.hpp>
#include <authchain/compose/listener.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/compose/event_loops.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/compose/session.hpp>
#include <authchain/compose/stream.hpp>
#include <authchain/compose/wrapper.hpp>
#include <authchain/transport/endpoint.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>
#include <authchain/transport/tls.hpp>
#include <authchain/auth/connection_limit.hpp>
#include <authchain/auth/failure_throttle.hpp>
#include <authchain/auth/ip_filter.hpp>
#include <authchain/auth/psk.hpp>
#include <authchain/auth/password.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/auth/resumption.hpp>
#include <authchain/auth/tls_ca.hpp>
#include <authchain/auth/tls_files.hpp>
#include <authchain/auth/tls_peer.hpp>
#include <authchain/relay/connect.hpp>
#include <authchain/relay/forward.hpp>
#include <authchain/relay/live_forwards.hpp>
#include <authchain/relay/loop_listener.hpp>
#include <authchain/relay/proxy_v2.hpp>
#include <authchain/relay/pump.hpp>
