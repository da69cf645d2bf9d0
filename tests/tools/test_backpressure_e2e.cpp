// Backpressure end to end: a client that never reads, through a real tunnel
// and gate, while the backend tries to send 1 GiB. The gate (and the tunnel)
// must hold the backend back instead of buffering: their resident memory
// stays flat. A memory assertion, not a timed one: the loop ends when the
// backend is stuck (no progress for a while), has sent everything, or a
// time bound passes.
#include <doctest/doctest.h>

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "tests/tools/gate_fixture.hpp"

namespace {

// VmRSS of a process in KiB (0 if unreadable).
long vmrss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

// A backend that accepts one connection and sends up to `total` bytes,
// counting what the kernel took, until told to stop.
class Sender {
public:
    explicit Sender(std::uint64_t total)
        : total_(total), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
        thread_ = std::thread([this] { run(); });
    }
    ~Sender() {
        stop_ = true;
        std::error_code ec;
        acceptor_.close(ec);  // ends a blocking accept
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    bool connected() const { return connected_; }
    std::uint64_t sent() const { return sent_; }

private:
    void run() {
        asio::ip::tcp::socket socket(io_);
        std::error_code ec;
        acceptor_.accept(socket, ec);
        if (ec) return;
        connected_ = true;
        timeval tv{0, 200'000};  // a blocked send wakes up to look at stop_
        ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::vector<char> chunk(1 << 20, 'x');
        while (!stop_ && sent_ < total_) {
            ssize_t n = ::send(socket.native_handle(), chunk.data(), chunk.size(), MSG_NOSIGNAL);
            if (n > 0) sent_ += static_cast<std::uint64_t>(n);
            else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) continue;
            else break;
        }
    }

    std::uint64_t total_;
    asio::io_context io_;
    asio::ip::tcp::acceptor acceptor_;
    std::atomic<bool> stop_{false}, connected_{false};
    std::atomic<std::uint64_t> sent_{0};
    std::thread thread_;
};

}  // namespace

TEST_CASE("backpressure e2e: a client that never reads while the backend sends 1 GiB: gate and tunnel RSS stay flat") {
    constexpr std::uint64_t one_gib = 1ull << 30;
    constexpr long bound_kib = 8 * 1024;  // growth allowed over the baseline
    Setup s;
    Sender backend(one_gib);
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(backend.port())));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    const long gate_base = vmrss_kib(gate->pid()), tunnel_base = vmrss_kib(tunnel->pid());
    REQUIRE(gate_base > 0);
    REQUIRE(tunnel_base > 0);

    // The client connects and never reads.
    asio::io_context io;
    asio::ip::tcp::socket client(io);
    client.connect({asio::ip::make_address("127.0.0.1"), tunnel.port});
    for (int i = 0; i < 500 && !backend.connected(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE(backend.connected());

    // Sample until the backend is stuck for 3 s, is done, or 60 s pass (at most 600 samples).
    long gate_most = gate_base, tunnel_most = tunnel_base;
    std::uint64_t last = 0;
    auto progress_at = std::chrono::steady_clock::now();
    const auto until = progress_at + std::chrono::seconds(60);
    for (int i = 0; i < 600 && std::chrono::steady_clock::now() < until; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        gate_most = std::max(gate_most, vmrss_kib(gate->pid()));
        tunnel_most = std::max(tunnel_most, vmrss_kib(tunnel->pid()));
        const std::uint64_t now_sent = backend.sent();
        if (now_sent >= one_gib) break;
        if (now_sent != last) {
            last = now_sent;
            progress_at = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - progress_at > std::chrono::seconds(3)) {
            break;
        }
    }
    MESSAGE("backend sent " << backend.sent() << " bytes; gate RSS " << gate_base << " -> max " << gate_most
                            << " KiB; tunnel RSS " << tunnel_base << " -> max " << tunnel_most << " KiB");
    CHECK(backend.sent() > 0);
    CHECK(backend.sent() < one_gib);  // held back: not all of it went anywhere
    CHECK(gate_most - gate_base < bound_kib);
    CHECK(tunnel_most - tunnel_base < bound_kib);
    CHECK(vmrss_kib(gate->pid()) > 0);  // still running

    // The client goes away: the gate ends the connection and audits it.
    client.close();
    CHECK(wait_audit(s.dir / "gate-audit.log", 1).size() == 1);
}
