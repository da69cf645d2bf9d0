// Benchmark (not a test): full handshakes per second through
//     ip_filter | secure_channel | public_key
// over real loopback TCP. The server runs on one thread and the clients on
// another, so on a 2-core machine each side has a core, as with a separate
// client machine. Prints handshakes/s and the latency percentiles.
//
//   build/tests/bench/bench-handshake [SECONDS=5] [CONCURRENCY=16]
#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>
#include <mutex>
#include <thread>
#include <vector>

#include <authchain/auth/ip_filter.hpp>
#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/public_key.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/secure_channel.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
    double seconds = argc > 1 ? std::atof(argv[1]) : 5.0;
    int concurrency = argc > 2 ? std::atoi(argv[2]) : 16;

    test::TempDir dir;
    openssh::write_keypair(dir / "host", "bench-host", std::nullopt);
    openssh::write_keypair(dir / "user", "bench-user", std::nullopt);
    test::write_file(dir / "authorized_keys", test::read_file(dir / "user.pub"), 0600);

    auto server_chain = ip_filter({.allow = {"127.0.0.0/8"}}) | secure_channel() |
                        public_key(PublicKeyServerOptions{.host_key = dir / "host",
                                                          .authorized_keys = dir / "authorized_keys"});
    auto client_chain = client::secure_channel() |
                        client::public_key({.identity = dir / "user",
                                            .known_hosts = dir / "known_hosts"});

    asio::io_context server_io(1);
    TcpListener listener(server_io.get_executor(), "127.0.0.1", 0, 4096);
    auto port = listener.local_endpoint().port();
    // known_hosts names the gate as the client dials it: [host]:port.
    test::write_file(dir / "known_hosts", fmt::format("[127.0.0.1]:{} {}", port, test::read_file(dir / "host.pub")),
                     0600);
    std::atomic<long> served{0};
    Server server(listener, server_chain, [&](Session s) -> asio::awaitable<void> {
        ++served;
        char b;
        try {
            co_await s.stream.read_some(asio::buffer(&b, 1));  // until the client closes
        } catch (const std::exception&) {
            // The client closes without a close record: measured is the handshake, not the close.
        }
    });
    asio::co_spawn(server_io, server.run(), asio::detached);
    std::thread server_thread([&] { server_io.run(); });

    asio::io_context client_io(1);
    std::atomic<bool> stop{false};
    std::atomic<long> done{0}, failed{0};
    std::mutex lat_mutex;
    std::vector<double> latencies_us;
    for (int i = 0; i < concurrency; ++i) {
        asio::co_spawn(client_io, [&]() -> asio::awaitable<void> {
            std::vector<double> mine;
            while (!stop) {
                auto t0 = Clock::now();
                try {
                    Session s = co_await authenticate(co_await tcp_connect("127.0.0.1", port), client_chain);
                    s.stream.close();
                    ++done;
                    mine.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
                } catch (const std::exception& e) {
                    if (++failed < 5) fmt::print(stderr, "handshake failed: {}\n", e.what());
                }
            }
            std::lock_guard lock(lat_mutex);
            latencies_us.insert(latencies_us.end(), mine.begin(), mine.end());
        }, asio::detached);
    }
    auto start = Clock::now();
    std::thread timer([&] {
        std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
        stop = true;
    });
    client_io.run();
    double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    timer.join();
    server.stop();
    server_io.stop();
    server_thread.join();

    std::sort(latencies_us.begin(), latencies_us.end());
    auto pct = [&](double p) {
        return latencies_us.empty() ? 0.0 : latencies_us[static_cast<std::size_t>(p * (latencies_us.size() - 1))];
    };
    fmt::print("ip_filter | secure_channel | public_key (ed25519), loopback TCP, {} concurrent clients\n",
               concurrency);
    fmt::print("  handshakes: {} in {:.2f} s = {:.0f} handshakes/s ({} failed)\n", done.load(), elapsed,
               static_cast<double>(done.load()) / elapsed, failed.load());
    fmt::print("  latency: p50 {:.0f} us, p90 {:.0f} us, p99 {:.0f} us\n", pct(0.5), pct(0.9), pct(0.99));
    return failed.load() == 0 ? 0 : 1;
}
