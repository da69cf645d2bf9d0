#include "tools/listener.hpp"

#include <sys/socket.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>

#include <authchain/relay/proxy_in.hpp>
#include "tools/log.hpp"
#include <authchain/transport/endpoint.hpp>
#include <authchain/transport/tcp.hpp>

namespace authchain::tools {

namespace {
constexpr auto as_tuple_awaitable = asio::experimental::as_tuple(asio::use_awaitable);
}

struct ServiceListener::Shared {
    explicit Shared(asio::ip::tcp::acceptor a)
        : acceptor(std::move(a)), ready(acceptor.get_executor(), 64) {}

    asio::ip::tcp::acceptor acceptor;
    Channel ready;  // accepted streams, in order of readiness
    std::atomic<bool> closed{false};
    std::atomic<std::size_t> pending{0};
    std::function<void(const ListenerRefusal&)> on_refused;
    EventLoops* loops = nullptr;  // where connections live; null: the acceptor's executor

    mutable std::mutex mutex;  // guards options and via
    ListenerOptions options;
    // Live connections that came through a balancer: client -> balancer.
    std::map<asio::ip::tcp::endpoint, asio::ip::tcp::endpoint> via;

    ListenerOptions current() const {
        std::lock_guard lock(mutex);
        return options;
    }
    void refused(const asio::ip::tcp::endpoint& from, std::string reason, std::string detail) {
        if (on_refused) on_refused({from, std::move(reason), std::move(detail)});
    }
    // Hands a stream to accept(); closes it (and says so) when accept() is that far behind.
    void deliver(Stream stream, const asio::ip::tcp::endpoint& from) {
        if (!ready.try_send(std::error_code{}, std::move(stream)))
            refused(from, "busy", "the server is not accepting fast enough: closed");
    }
};

namespace {

bool listed(const ListenerOptions& o, const asio::ip::address& address) {
    for (const auto& cidr : o.proxy_from)
        if (cidr.contains(address)) return true;
    return false;
}

// Forgets the balancer of a connection when its last Stream is gone.
struct ViaEntry {
    std::function<void()> forget;
    ~ViaEntry() {
        if (forget) forget();
    }
};

}  // namespace

ServiceListener::ServiceListener(asio::ip::tcp::acceptor acceptor, ListenerOptions options,
                                 std::function<void(const ListenerRefusal&)> on_refused, EventLoops* loops)
    : shared_(std::make_shared<Shared>(std::move(acceptor))) {
    shared_->options = std::move(options);
    shared_->on_refused = std::move(on_refused);
    shared_->loops = loops;
}

ServiceListener::~ServiceListener() { close(); }

asio::ip::tcp::endpoint ServiceListener::local_endpoint() const { return shared_->acceptor.local_endpoint(); }

void ServiceListener::update(ListenerOptions options) {
    std::lock_guard lock(shared_->mutex);
    shared_->options = std::move(options);
}

std::optional<asio::ip::tcp::endpoint> ServiceListener::balancer_of(const asio::ip::tcp::endpoint& client) const {
    std::lock_guard lock(shared_->mutex);
    auto it = shared_->via.find(client);
    if (it == shared_->via.end()) return std::nullopt;
    return it->second;
}

void ServiceListener::close() noexcept {
    shared_->closed = true;
    std::error_code ignored;
    shared_->acceptor.close(ignored);
    shared_->ready.close();
}

asio::awaitable<Stream> ServiceListener::accept() {
    if (!started_) {
        started_ = true;
        auto executor = shared_->acceptor.get_executor();
        asio::co_spawn(asio::make_strand(executor), accept_loop(shared_), asio::detached);
    }
    auto [ec, stream] = co_await shared_->ready.async_receive(as_tuple_awaitable);
    if (ec) throw std::system_error(ec == asio::experimental::error::channel_closed ? asio::error::operation_aborted : ec,
                                    "accept");
    co_return std::move(stream);
}

asio::awaitable<void> ServiceListener::accept_loop(std::shared_ptr<Shared> shared) {
    auto executor = co_await asio::this_coro::executor;
    while (!shared->closed) {
        // Onto the next loop, where the connection then lives.
        asio::any_io_executor home = shared->loops ? shared->loops->next() : shared->acceptor.get_executor();
        auto [ec, socket] = co_await shared->acceptor.async_accept(home, as_tuple_awaitable);
        if (shared->closed) break;
        if (ec) {
            if (ec == asio::error::connection_aborted || ec == asio::error::interrupted) continue;
            bool exhausted = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                             ec == asio::error::no_memory || ec.value() == ENFILE;
            if (!exhausted) {
                shared->ready.try_send(ec, Stream{});  // accept() throws it: the service reports and stops
                break;
            }
            asio::steady_timer pause(executor, std::chrono::milliseconds(100));
            co_await pause.async_wait(as_tuple_awaitable);
            continue;
        }
        ListenerOptions options = shared->current();
        if (options.keepalive.count() > 0) set_keepalive(socket, options.keepalive);
        std::error_code peer_ec;
        auto source = socket.remote_endpoint(peer_ec);
        if (options.proxy_from.empty() || (!listed(options, source.address()) && options.optional_from_others)) {
            // Backpressure as a plain accept: wait while the Server is behind.
            auto [send_ec] = co_await shared->ready.async_send(std::error_code{}, tcp_stream(std::move(socket)),
                                                               as_tuple_awaitable);
            if (send_ec) break;
            continue;
        }
        if (!listed(options, source.address())) {
            socket.close(peer_ec);
            shared->refused(source, "untrusted source",
                            "not in proxy_protocol_from: closed unread (a direct client must not send a PROXY "
                            "header, and is not served here)");
            continue;
        }
        if (shared->pending.load() >= options.max_pending) {
            socket.close(peer_ec);
            shared->refused(source, "proxy header", "too many PROXY headers being read at once");
            continue;
        }
        ++shared->pending;
        // On a loop, its one thread is the connection's; else a strand of its own.
        auto reader = shared->loops ? socket.get_executor() : asio::make_strand(socket.get_executor());
        asio::co_spawn(reader, read_header(shared, std::move(socket), options), asio::detached);
    }
}

asio::awaitable<void> ServiceListener::read_header(std::shared_ptr<Shared> shared, asio::ip::tcp::socket socket,
                                                   ListenerOptions options) {
    std::error_code ec;
    auto balancer = socket.remote_endpoint(ec);
    auto own_local = socket.local_endpoint(ec);
    try {
        std::optional<proxy_v2::Header> read = co_await read_proxy_header(socket, options.header_timeout);
        --shared->pending;
        if (!read) {  // a balancer's health check (connect, close): not a refusal
            log(LogLevel::debug, "gate", "health check from " + endpoint_text(balancer) + " (closed before a byte)");
            co_return;
        }
        proxy_v2::Header& header = *read;
        if (header.local) {
            // LOCAL (a balancer's own health check): the connection's real ends, as the spec says.
            shared->deliver(tcp_stream(std::move(socket)), balancer);
            co_return;
        }
        auto client = header.source;
        Stream stream = tcp_stream(std::move(socket), client, header.destination.port() ? header.destination
                                                                                           : own_local);
        {
            std::lock_guard lock(shared->mutex);
            shared->via[client] = balancer;
        }
        auto entry = std::make_shared<ViaEntry>();
        std::weak_ptr<Shared> weak = shared;
        entry->forget = [weak, client, balancer] {
            if (auto s = weak.lock()) {
                std::lock_guard lock(s->mutex);
                auto it = s->via.find(client);
                if (it != s->via.end() && it->second == balancer) s->via.erase(it);
            }
        };
        stream.hold(entry);
        shared->deliver(std::move(stream), balancer);
    } catch (const std::exception& e) {
        --shared->pending;
        shared->refused(balancer, "proxy header", e.what());
    }
}

asio::ip::tcp::acceptor bind_acceptor(asio::any_io_executor executor, const std::string& host, std::uint16_t port) {
    std::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::invalid_argument("listen address must be an IP literal: \"" + host + "\"");
    asio::ip::tcp::endpoint endpoint(address, port);
    asio::ip::tcp::acceptor acceptor(executor);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true));
    if (address.is_v6()) acceptor.set_option(asio::ip::v6_only(false), ec);
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    return acceptor;
}

asio::ip::tcp::acceptor adopt_acceptor(asio::any_io_executor executor, int fd) {
    sockaddr_storage storage{};
    socklen_t size = sizeof storage;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &size) != 0)
        throw std::system_error(errno, std::generic_category(), "getsockname on the socket from systemd");
    auto protocol = storage.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
    return asio::ip::tcp::acceptor(executor, protocol, fd);
}

}  // namespace authchain::tools
