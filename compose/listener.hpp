// Listener: where a server's connections come from (a TCP acceptor, a Unix
// socket, a test pipe). The seam next to Stream: transports implement it,
// the Server driver consumes it.
#pragma once

#include <asio/awaitable.hpp>

#include <authchain/compose/event_loops.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain {

class Listener {
public:
    virtual ~Listener() = default;
    // The next connection; throws std::system_error once closed.
    virtual asio::awaitable<Stream> accept() = 0;
    // The next connection, its stream living on one of `loops`
    // (compose/event_loops.hpp) where the listener can place it there
    // (LoopListener accepts the socket onto loops.next()). The default
    // returns accept(): the stream lives where the listener puts it, and
    // the Server serves it there (on a strand, unless that is a loop).
    virtual asio::awaitable<Stream> accept_on(EventLoops& loops) {
        (void)loops;
        return accept();
    }
    virtual void close() noexcept = 0;
};

}  // namespace authchain
