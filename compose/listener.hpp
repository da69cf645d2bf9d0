// Listener: where a server's connections come from (a TCP acceptor, a Unix
// socket, a test pipe). The seam next to Stream: transports implement it,
// the Server driver consumes it.
#pragma once

#include <asio/awaitable.hpp>

#include <authchain/compose/stream.hpp>

namespace authchain {

class Listener {
public:
    virtual ~Listener() = default;
    // The next connection; throws std::system_error once closed.
    virtual asio::awaitable<Stream> accept() = 0;
    virtual void close() noexcept = 0;
};

}  // namespace authchain
