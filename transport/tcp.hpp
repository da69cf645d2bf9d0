// TCP transport: listener and connector producing Streams.
//
// Servers bind 127.0.0.1 unless an address is given (DESIGN rule 5).
#pragma once

#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <authchain/compose/listener.hpp>
#include <authchain/compose/stream.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain {

class TcpListener final : public Listener {
public:
    // Binds and listens on address:port (port 0: any free port). The
    // address must be a literal IPv4 or IPv6 address.
    TcpListener(asio::any_io_executor executor, std::string_view address = "127.0.0.1",
                std::uint16_t port = 0, int backlog = asio::socket_base::max_listen_connections);

    asio::awaitable<Stream> accept() override;
    void close() noexcept override;
    asio::ip::tcp::endpoint local_endpoint() const;

private:
    asio::ip::tcp::acceptor acceptor_;
};

// Wraps a connected socket (TCP_NODELAY is set).
Stream tcp_stream(asio::ip::tcp::socket socket);
// The same for a socket whose ends are known better than the socket knows
// them (a trusted PROXY v2 header, relay/proxy_in.hpp): remote_endpoint()
// and local_endpoint() report `remote` and `local`.
Stream tcp_stream(asio::ip::tcp::socket socket, asio::ip::tcp::endpoint remote, asio::ip::tcp::endpoint local);

// TCP keepalive on `socket`: probes after `idle` without traffic, then every
// idle/4 (at least 1 s), 4 unanswered probes end the connection (about
// 2 x idle for a dead peer). Best effort: a failing option is ignored.
void set_keepalive(asio::ip::tcp::socket& socket, std::chrono::seconds idle);

// Resolves and connects to host:port (each resolved address in turn).
// Throws std::system_error when no address accepts. The stream records
// host and port as dialled (Stream::dialled()), so client::public_key looks
// the server up in known_hosts under that name by default.
asio::awaitable<Stream> tcp_connect(std::string host, std::uint16_t port);

}  // namespace authchain
