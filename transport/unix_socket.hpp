// Unix-domain stream sockets as Streams: how the gate reaches a backend that
// listens on a socket file (e.g. redis with `unixsocket`).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/local/stream_protocol.hpp>
#include <filesystem>

#include <authchain/compose/stream.hpp>

namespace authchain {

// Wraps a connected Unix socket. remote_endpoint() is the unspecified TCP
// endpoint (0.0.0.0:0): a Unix peer has no address; protection().transport
// is "unix".
Stream unix_stream(asio::local::stream_protocol::socket socket);

// Connects to the socket file at `path` on the calling coroutine's executor.
// Throws std::system_error (e.g. ENOENT, ECONNREFUSED) when it cannot, and
// std::invalid_argument if the path does not fit in sockaddr_un.
asio::awaitable<Stream> unix_connect(std::filesystem::path path);

}  // namespace authchain
