// A man in the middle on loopback TCP between a real tunnel and the real
// gate, who sees the secure channel's messages one by one and may rewrite,
// drop, reorder or cut them; and an echo backend that records how each of
// its connections ended (end of stream or reset) and what it received.
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <thread>

#include "tests/attacks/attack_client.hpp"

namespace attacks {

// One direction's edit: unit i (0: the first handshake message, the offer
// or the choice with its frame; then one record each) -> what to send in
// its place; nothing (nullopt) cuts the direction: a plain end of stream,
// no close record.
using Edit = std::function<std::optional<std::vector<Bytes>>(std::size_t i, Bytes unit)>;
inline Edit unchanged() {
    return [](std::size_t, Bytes u) { return std::optional<std::vector<Bytes>>(std::vector<Bytes>{std::move(u)}); };
}

// Runs io on its own thread (bounded), stopped and joined by the destructor.
class IoThread {
public:
    asio::io_context io;
    void start() {
        thread_ = std::thread([this] { io.run_for(std::chrono::seconds(60)); });
    }
    ~IoThread() { stop(); }
    void stop() {
        io.stop();
        if (thread_.joinable()) thread_.join();
    }

private:
    std::thread thread_;
};

namespace detail {

inline awaitable<Bytes> read_exact(tcp::socket& s, std::size_t n) {
    Bytes b(n);
    co_await asio::async_read(s, asio::buffer(b), asio::use_awaitable);
    co_return b;
}
inline awaitable<std::size_t> read_u16(tcp::socket& s, Bytes& into) {
    Bytes h = co_await read_exact(s, 2);
    into.insert(into.end(), h.begin(), h.end());
    co_return (std::size_t{h[0]} << 8) | h[1];
}

// The next unit of a secure channel stream (see Edit); `client` tells the
// first message's shape: offer (6 + n ids) or choice (6), then a frame.
inline awaitable<Bytes> read_unit(tcp::socket& s, std::size_t i, bool client) {
    Bytes u;
    if (i == 0) {
        u = co_await read_exact(s, 6);
        if (client) {
            Bytes ids = co_await read_exact(s, u[5]);
            u.insert(u.end(), ids.begin(), ids.end());
        }
    }
    std::size_t n = co_await read_u16(s, u);
    Bytes body = co_await read_exact(s, n);
    u.insert(u.end(), body.begin(), body.end());
    co_return u;
}

inline awaitable<void> pump(std::shared_ptr<tcp::socket> from, std::shared_ptr<tcp::socket> to, Edit edit, bool client) {
    std::error_code ec;
    try {
        for (std::size_t i = 0; i < 100000; ++i) {
            Bytes u = co_await read_unit(*from, i, client);
            auto out = edit(i, std::move(u));
            if (!out) break;
            for (const auto& b : *out) co_await asio::async_write(*to, asio::buffer(b), asio::use_awaitable);
        }
    } catch (const std::exception&) {
    }
    to->shutdown(tcp::socket::shutdown_send, ec);
}

}  // namespace detail

// Listens on 127.0.0.1:0; each connection is relayed to the gate from
// `upstream_source`, through `up` (client to gate) and `down` edits.
class Mitm {
public:
    Mitm(std::uint16_t gate_port, Edit up, Edit down = unchanged(), std::string upstream_source = "127.0.0.7")
        : acceptor_(t_.io, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(t_.io, serve(gate_port, std::move(up), std::move(down), std::move(upstream_source)),
                       asio::detached);
        t_.start();
    }
    ~Mitm() { t_.stop(); }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

private:
    awaitable<void> serve(std::uint16_t gate_port, Edit up, Edit down, std::string source) {
        for (int i = 0; i < 1000; ++i) {
            auto [ec, socket] = co_await acceptor_.async_accept(as_tuple_awaitable);
            if (ec) co_return;
            try {
                auto client = std::make_shared<tcp::socket>(std::move(socket));
                auto gate = std::make_shared<tcp::socket>(co_await connect_from(source, gate_port));
                auto ex = co_await asio::this_coro::executor;
                asio::co_spawn(ex, detail::pump(client, gate, up, true), asio::detached);
                asio::co_spawn(ex, detail::pump(gate, client, down, false), asio::detached);
            } catch (const std::exception&) {
            }
        }
    }
    IoThread t_;
    tcp::acceptor acceptor_;
};

// An echo server on 127.0.0.1:0 that records each connection.
class EchoBackend {
public:
    struct Connection {
        std::string received;
        std::string ending;  // "closed", "reset", "" while open
    };
    EchoBackend() : acceptor_(t_.io, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(t_.io, serve(), asio::detached);
        t_.start();
    }
    ~EchoBackend() { t_.stop(); }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::vector<Connection> connections() const {
        std::lock_guard lock(mutex_);
        return connections_;
    }
    // Waits (bounded: 5 s) until every connection has ended; returns them.
    std::vector<Connection> ended() const {
        for (int i = 0; i < 250; ++i) {
            auto c = connections();
            bool all = true;
            for (const auto& x : c) all = all && !x.ending.empty();
            if (all) return c;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return connections();
    }

private:
    awaitable<void> serve() {
        for (int i = 0; i < 1000; ++i) {
            auto [ec, socket] = co_await acceptor_.async_accept(as_tuple_awaitable);
            if (ec) co_return;
            std::size_t index;
            {
                std::lock_guard lock(mutex_);
                index = connections_.size();
                connections_.push_back({});
            }
            asio::co_spawn(acceptor_.get_executor(), echo(std::move(socket), index), asio::detached);
        }
    }
    awaitable<void> echo(tcp::socket s, std::size_t index) {
        std::array<char, 4096> buf{};
        std::string ending;
        for (int i = 0; i < 100000; ++i) {
            auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), as_tuple_awaitable);
            if (n > 0) {
                {
                    std::lock_guard lock(mutex_);
                    connections_[index].received.append(buf.data(), n);
                }
                auto [wec, wn] = co_await asio::async_write(s, asio::buffer(buf.data(), n), as_tuple_awaitable);
                (void)wec, (void)wn;
            }
            if (ec) {
                ending = ec == asio::error::eof ? "closed" : ec == asio::error::connection_reset ? "reset" : ec.message();
                break;
            }
        }
        std::lock_guard lock(mutex_);
        connections_[index].ending = ending.empty() ? "?" : ending;
    }
    IoThread t_;
    tcp::acceptor acceptor_;
    mutable std::mutex mutex_;
    std::vector<Connection> connections_;
};

}  // namespace attacks
