// The listener of `authchain gate` and `tunnel`: a TCP acceptor (bound from
// `listen`, or the socket systemd passed) that sets TCP keepalive on each
// connection and, with `proxy_protocol_from`, takes the client address from
// a trusted balancer's PROXY v2 header (relay/proxy_in.hpp):
//
//   source listed in proxy_protocol_from   a complete, valid v2 header within
//                                          header_timeout, else closed; the
//                                          header's source is the peer
//   any other source                       closed unread; or, with
//                                          optional_from_others, served as a
//                                          direct client (its own address)
//
// The stream handed to the Server then reports the real client as its
// remote_endpoint(), so the per-source handshake shares, ip_filter,
// failure_throttle, from=, the audit, the metrics and the outgoing PROXY v2
// header all see the client, not the balancer. With event loops
// (compose/event_loops.hpp) each connection is accepted onto the next loop
// and stays there, PROXY header included. Headers are read
// concurrently (at most max_pending at a time; more are closed), so a slow
// balancer connection does not hold up the others.
#pragma once

#include <asio/experimental/concurrent_channel.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <authchain/compose/cidr.hpp>
#include <authchain/compose/event_loops.hpp>
#include <authchain/compose/listener.hpp>

namespace authchain::tools {

struct ListenerOptions {
    std::vector<Cidr> proxy_from;       // empty: no PROXY header is expected from anyone
    bool optional_from_others = false;  // with proxy_from: others are direct clients
    std::chrono::milliseconds header_timeout{10000};
    std::chrono::seconds keepalive{};   // zero: off
    std::size_t max_pending = 256;      // headers being read at once
};

// Why the listener closed a connection before the Server saw it.
struct ListenerRefusal {
    asio::ip::tcp::endpoint from;  // the connection's own source (a balancer, or the unlisted source)
    std::string reason;            // "proxy header" or "untrusted source"
    std::string detail;
};

class ServiceListener final : public Listener {
public:
    // With `loops`, each connection is accepted onto the next loop and
    // lives there (its PROXY header is read there too); without, on the
    // acceptor's executor, a strand per connection.
    ServiceListener(asio::ip::tcp::acceptor acceptor, ListenerOptions options,
                    std::function<void(const ListenerRefusal&)> on_refused = {}, EventLoops* loops = nullptr);
    ~ServiceListener() override;

    asio::awaitable<Stream> accept() override;
    void close() noexcept override;
    asio::ip::tcp::endpoint local_endpoint() const;

    // New options for connections accepted from now on (SIGHUP).
    void update(ListenerOptions options);
    // The balancer a live connection from `client` came through, if any.
    std::optional<asio::ip::tcp::endpoint> balancer_of(const asio::ip::tcp::endpoint& client) const;

private:
    using Channel = asio::experimental::concurrent_channel<void(std::error_code, Stream)>;
    struct Shared;

    static asio::awaitable<void> accept_loop(std::shared_ptr<Shared> shared);
    static asio::awaitable<void> read_header(std::shared_ptr<Shared> shared, asio::ip::tcp::socket socket,
                                             ListenerOptions options);

    std::shared_ptr<Shared> shared_;
    bool started_ = false;
};

// Binds a listening acceptor on host:port (as TcpListener does: an IP
// literal, SO_REUSEADDR, dual-stack for "::").
asio::ip::tcp::acceptor bind_acceptor(asio::any_io_executor executor, const std::string& host, std::uint16_t port);
// An acceptor around an already listening socket (socket activation).
asio::ip::tcp::acceptor adopt_acceptor(asio::any_io_executor executor, int fd);

}  // namespace authchain::tools
