// LoopListener: a TCP listener that accepts each connection onto the event
// loop the Server names (compose/event_loops.hpp), so the connection's
// socket lives on that loop's io_context from its first byte:
//
//     authchain::EventLoops loops;
//     authchain::LoopListener listener(loops.executor(0), "127.0.0.1", 7000);
//     authchain::Server server(listener, chain, handler, {.loops = &loops});
//
// One listening socket, accepted from the executor it was made on
// (acceptor.async_accept(loops.next())): the kernel queues, the accepting
// executor takes each connection off the queue and the next loop in turn
// gets it. accept()
// without a loop keeps the connection on the listener's own executor, as
// TcpListener does. TCP_NODELAY is set on every connection (tcp_stream).
#pragma once

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string_view>

#include <authchain/compose/listener.hpp>

namespace authchain {

class LoopListener final : public Listener {
public:
    // Binds and listens on address:port (port 0: any free port; an IP
    // literal; SO_REUSEADDR; "::" is dual-stack).
    LoopListener(asio::any_io_executor executor, std::string_view address = "127.0.0.1", std::uint16_t port = 0,
                 int backlog = asio::socket_base::max_listen_connections);
    // Takes a socket already listening (one bound elsewhere, or systemd's).
    explicit LoopListener(asio::ip::tcp::acceptor acceptor);

    asio::awaitable<Stream> accept() override;
    asio::awaitable<Stream> accept_on(EventLoops& loops) override;
    void close() noexcept override;
    asio::ip::tcp::endpoint local_endpoint() const;

private:
    asio::ip::tcp::acceptor acceptor_;
};

}  // namespace authchain
