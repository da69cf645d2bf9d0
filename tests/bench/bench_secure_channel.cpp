// Benchmark (not a test): secure_channel alone over real loopback TCP.
//   1. bulk: the client writes N bytes, the server reads and discards them,
//      for plain TCP (reference) and each AEAD (MB/s, MiB/s);
//   2. handshakes/s: sequential connections, then concurrent ones.
// The server runs on one thread and the client on another, so on a 2-core
// machine each side has a core.
//
//   build/tests/bench/bench-secure-channel [GIB_PER_SUITE=2] [HANDSHAKES=2000] [CONCURRENCY=8]
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <botan/aead.h>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using Clock = std::chrono::steady_clock;

namespace {

// The server side: its own io_context on its own thread.
class ServerThread {
public:
    ServerThread() : guard_(asio::make_work_guard(io_)), thread_([this] { io_.run(); }) {}
    ~ServerThread() {
        guard_.reset();
        io_.stop();
        thread_.join();
    }
    asio::io_context& io() { return io_; }

private:
    asio::io_context io_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::thread thread_;
};

struct BulkResult {
    std::uint64_t bytes = 0;
    double seconds = 0;
    double cpu_seconds = 0;  // of the reading thread
};

// CPU time of the calling thread: with other processes on the machine the
// wall-clock rate understates what one core does; bytes per CPU second of
// the busier side is the rate two idle cores would reach.
double thread_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Accepts one connection, optionally runs the secure channel, reads to the end.
asio::awaitable<BulkResult> sink(TcpListener& listener, std::optional<SecureChannelOptions> options) {
    Session session = start_session(co_await listener.accept());
    if (options) {
        const Authenticator chain = secure_channel(*options);
        session = co_await chain(std::move(session));
    }
    std::vector<std::uint8_t> buffer(256 * 1024);
    BulkResult r;
    auto start = Clock::now();
    double cpu_start = thread_cpu_seconds();
    for (;;) {
        std::size_t n = co_await session.stream.read_some(asio::buffer(buffer));
        if (n == 0) break;
        if (r.bytes == 0) start = Clock::now(), cpu_start = thread_cpu_seconds();
        r.bytes += n;
    }
    r.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    r.cpu_seconds = thread_cpu_seconds() - cpu_start;
    co_return r;
}

asio::awaitable<void> source(std::uint16_t port, std::optional<SecureChannelOptions> options, std::uint64_t total,
                             double& cpu_seconds) {
    const std::string host = "127.0.0.1";
    Stream stream = co_await tcp_connect(host, port);
    Session session = start_session(std::move(stream));
    if (options) {
        const Authenticator chain = client::secure_channel(*options);
        session = co_await chain(std::move(session));
    }
    std::vector<std::uint8_t> chunk(1 << 20, 0x5a);
    const double cpu_start = thread_cpu_seconds();
    for (std::uint64_t sent = 0; sent < total; sent += chunk.size())
        co_await write_all(session.stream, asio::buffer(chunk.data(), std::min<std::uint64_t>(chunk.size(), total - sent)));
    co_await session.stream.shutdown_send();
    cpu_seconds = thread_cpu_seconds() - cpu_start;
    // Wait for the server to finish reading (it closes after the close record).
    std::uint8_t b;
    try {
        while (co_await session.stream.read_some(asio::buffer(&b, 1)) > 0) {
        }
    } catch (const std::exception&) {
    }
}

void bulk(const std::string& label, std::optional<SecureChannelOptions> options, std::uint64_t total) {
    ServerThread server;
    TcpListener listener(server.io().get_executor());
    auto result = asio::co_spawn(server.io(), sink(listener, options), asio::use_future);
    asio::io_context client;
    auto port = listener.local_endpoint().port();
    double client_cpu = 0;
    auto client_done = asio::co_spawn(client, source(port, options, total, client_cpu), asio::use_future);
    std::thread client_thread([&] { client.run(); });
    BulkResult r = result.get();
    client_done.get();  // the client ends once the server has closed
    client_thread.join();
    const double mb = static_cast<double>(r.bytes) / 1e6;
    fmt::print("bulk {:<36} {:>5.2f} GiB in {:>6.2f} s: {:>7.1f} MB/s wall; per CPU second: writer {:>7.1f} MB/s, "
               "reader {:>7.1f} MB/s\n",
               label, static_cast<double>(r.bytes) / (1 << 30), r.seconds, mb / r.seconds, mb / client_cpu,
               mb / r.cpu_seconds);
}

// Reference: Botan's AEAD alone, encrypting 64 KiB messages in one thread.
void raw_aead(const char* botan_name, std::uint64_t total) {
    auto mode = Botan::AEAD_Mode::create_or_throw(botan_name, Botan::ENCRYPTION);
    mode->set_key(Botan::secure_vector<std::uint8_t>(32, 1));
    Botan::secure_vector<std::uint8_t> buffer;
    buffer.reserve(65536 + 16);
    std::uint8_t nonce[12] = {};
    const auto start = Clock::now();
    const double cpu_start = thread_cpu_seconds();
    for (std::uint64_t done = 0; done < total; done += 65536) {
        buffer.assign(65536, 0x5a);
        ++nonce[11];
        mode->start(nonce, sizeof nonce);
        mode->finish(buffer);
    }
    const double mb = static_cast<double>(total) / 1e6;
    fmt::print("raw  {:<36} {:>5.2f} GiB in {:>6.2f} s: {:>7.1f} MB/s wall; per CPU second: {:>7.1f} MB/s\n",
               botan_name, static_cast<double>(total) / (1 << 30),
               std::chrono::duration<double>(Clock::now() - start).count(),
               mb / std::chrono::duration<double>(Clock::now() - start).count(), mb / (thread_cpu_seconds() - cpu_start));
}

// The server: accepts `count` connections, runs the handshake on each, closes.
asio::awaitable<int> handshake_server(TcpListener& listener, int count) {
    auto ex = co_await asio::this_coro::executor;
    auto chain = secure_channel();
    for (int i = 0; i < count; ++i) {
        Stream stream = co_await listener.accept();
        asio::co_spawn(ex, [chain, s = std::move(stream)]() mutable -> asio::awaitable<void> {
            Session session = co_await chain(start_session(std::move(s)));
            co_await session.stream.shutdown_send();
        }, asio::detached);
    }
    co_return 0;
}

asio::awaitable<void> handshake_client(std::uint16_t port, int count) {
    auto chain = client::secure_channel();
    const std::string host = "127.0.0.1";
    for (int i = 0; i < count; ++i) {
        Stream stream = co_await tcp_connect(host, port);
        Session session = co_await chain(start_session(std::move(stream)));
        std::uint8_t b;
        (void)co_await session.stream.read_some(asio::buffer(&b, 1));  // the server's close record
    }
}

void handshakes(int count, int concurrency) {
    ServerThread server;
    TcpListener listener(server.io().get_executor());
    auto done = asio::co_spawn(server.io(), handshake_server(listener, count), asio::use_future);
    asio::io_context client;
    const auto port = listener.local_endpoint().port();
    const int per_client = count / concurrency;
    std::vector<std::future<void>> clients;
    for (int c = 0; c < concurrency; ++c)
        clients.push_back(asio::co_spawn(client, handshake_client(port, per_client), asio::use_future));
    const auto start = Clock::now();
    client.run();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    for (auto& f : clients) f.get();
    done.get();
    const int total = per_client * concurrency;
    fmt::print("handshakes, {:>2} at a time: {:>6} in {:>5.2f} s: {:>7.0f} handshakes/s ({:.0f} us each)\n",
               concurrency, total, seconds, total / seconds, seconds / total * 1e6 * concurrency);
}

}  // namespace

int main(int argc, char** argv) {
    const double gib = argc > 1 ? std::atof(argv[1]) : 2.0;
    const int count = argc > 2 ? std::atoi(argv[2]) : 2000;
    const int concurrency = argc > 3 ? std::atoi(argv[3]) : 8;
    const auto total = static_cast<std::uint64_t>(gib * (1 << 30));
    try {
        raw_aead("AES-256/GCM", total / 2);
        raw_aead("ChaCha20Poly1305", total / 2);
        bulk("plain TCP (reference)", std::nullopt, total);
        for (const char* suite : {"25519_AESGCM_SHA256", "25519_ChaChaPoly_SHA256"}) {
            SecureChannelOptions o;
            o.suites = {suite};
            bulk(std::string("Noise_NN_") + suite, o, total);
        }
        handshakes(count, 1);
        handshakes(count, concurrency);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench-secure-channel: %s\n", e.what());
        return 1;
    }
    return 0;
}
