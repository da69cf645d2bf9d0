// Shared by the service tests (trusted PROXY v2 in, reload, metrics,
// systemd): a recording TCP backend, raw one-shot clients, a metrics scrape.
#pragma once

#include <asio/local/datagram_protocol.hpp>
#include <mutex>
#include <regex>
#include <thread>

#include "tests/tools/gate_fixture.hpp"

namespace {

// A TCP server on 127.0.0.1:0 that records what each connection sent until
// it closed (bounded: each connection is read for at most 10 s). Runs on its
// own thread until destroyed.
class RecordingBackend {
public:
    RecordingBackend() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(io_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { io_.run_for(std::chrono::seconds(120)); });
    }
    ~RecordingBackend() {
        io_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string address() const { return "127.0.0.1:" + std::to_string(port()); }
    std::size_t connections() const {
        std::lock_guard lock(mutex_);
        return received_.size();
    }
    // What connection `i` sent so far (its whole stream once it closed).
    std::string received(std::size_t i) const {
        std::lock_guard lock(mutex_);
        return i < received_.size() ? received_[i] : std::string();
    }
    // Waits (bounded: 10 s) until connection `i` sent at least `n` bytes.
    std::string wait_received(std::size_t i, std::size_t n) const {
        for (int k = 0; k < 500; ++k) {
            std::string got = received(i);
            if (got.size() >= n) return got;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return received(i);
    }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
            std::size_t index;
            {
                std::lock_guard lock(mutex_);
                index = received_.size();
                received_.emplace_back();
            }
            asio::co_spawn(io_, read_all(std::move(socket), index), asio::detached);
        }
    }
    asio::awaitable<void> read_all(asio::ip::tcp::socket socket, std::size_t index) {
        std::array<char, 4096> buf{};
        asio::steady_timer limit(io_, std::chrono::seconds(10));
        limit.async_wait([&socket](std::error_code ec) {
            if (ec) return;  // cancelled below: the socket may be gone by now
            std::error_code ignored;
            socket.close(ignored);
        });
        try {
            for (;;) {
                std::size_t n = co_await socket.async_read_some(asio::buffer(buf), asio::use_awaitable);
                std::lock_guard lock(mutex_);
                received_[index].append(buf.data(), n);
            }
        } catch (const std::exception&) {
        }
        limit.cancel();
    }

    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<std::string> received_;
};

// Connects to 127.0.0.1:port, sends `bytes`, then reads until the other side
// closes or `limit` passes. Returns true if it closed within `limit`.
inline bool send_and_see_closed(std::uint16_t port, const std::string& bytes, std::chrono::seconds limit) {
    RawClient c(port);
    asio::write(c.socket, asio::buffer(bytes));
    return c.ends_within(limit);
}

// A PROXY v2 header from `source` to the gate.
inline std::string proxy_header(const std::string& source, std::uint16_t source_port, std::uint16_t gate_port) {
    proxy_v2::Header h;
    h.source = {asio::ip::make_address(source), source_port};
    h.destination = {asio::ip::make_address("127.0.0.1"), gate_port};
    Bytes b = proxy_v2::encode(h);
    return std::string(b.begin(), b.end());
}

// `GET /metrics` on 127.0.0.1:port: the body ("" if it failed), bounded.
inline std::string scrape(std::uint16_t port) {
    RawClient c(port);
    asio::write(c.socket, asio::buffer(std::string("GET /metrics HTTP/1.0\r\n\r\n")));
    std::string response;
    std::array<char, 4096> buf{};
    std::function<void(std::error_code, std::size_t)> on_read = [&](std::error_code ec, std::size_t n) {
        response.append(buf.data(), n);
        if (!ec) c.socket.async_read_some(asio::buffer(buf), on_read);
    };
    c.socket.async_read_some(asio::buffer(buf), on_read);
    c.io.restart();
    c.io.run_for(std::chrono::seconds(10));
    auto body = response.find("\r\n\r\n");
    if (response.rfind("HTTP/1.0 200", 0) != 0 || body == std::string::npos) return "";
    return response.substr(body + 4);
}

// The value of the sample `name{labels}` (as written) in a scrape; -1 if absent.
inline double sample(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    }
    return -1;
}

// Starts the gate of `s` with a "metrics on http://127.0.0.1:PORT" line: both ports.
struct MeteredGate {
    Daemon gate;
    std::uint16_t metrics_port = 0;
};
inline MeteredGate metered_gate(Setup& s, const std::filesystem::path& config) {
    MeteredGate m{s.gate(config), 0};
    m.metrics_port = wait_port(*m.gate.process, s.dir / "gate.out", "metrics on http://127.0.0.1:");
    return m;
}

// The chain the PROXY-in tests use: an ip_filter only (the point is which
// address it sees), so a raw client gets through to the backend.
inline std::string filter_only(const std::string& allow) {
    return "[[layer]]\nkind = \"ip_filter\"\nallow = [\"" + allow + "\"]\n";
}

}  // namespace
