// Benchmark (not a test): exactly one unit of work for an instruction count
// under callgrind, both sides in ONE thread over real loopback TCP, so the
// count is everything both ends execute in user space for that unit:
//
//   handshake        one full  ip_filter | secure_channel | public_key
//                    handshake (the gate's Server driver and the tunnel's
//                    authenticate), from connect to both sides done;
//   handshake resumed  the same chain with resumption before public_key:
//                    the warm-up is the full handshake that earns the
//                    ticket, the unit counted is one resumed handshake;
//   1mib SUITE       1 MiB written by the client in 64 KiB writes (the pump's
//                    buffer size) and read by the server through an established
//                    secure channel of SUITE (e.g. 25519_AESGCM_SHA256).
//
// One warm-up unit runs first, uncounted (first-use initialisation). Collection
// is switched on and off with CALLGRIND_TOGGLE_COLLECT, so run it as
//
//   valgrind --tool=callgrind --collect-atstart=no build-release/tests/bench/bench-callgrind handshake
//
// and read `totals:` from the output file (tests/bench/callgrind.sh does).
// Outside valgrind the toggles do nothing and it just runs once.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <cstdio>
#include <cstring>
#include <fmt/core.h>
#include <string>
#include <valgrind/callgrind.h>
#include <vector>

#include <authchain/auth/ip_filter.hpp>
#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/auth/resumption.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>
#include "tests/support/run.hpp"

using namespace authchain;

namespace {

// Both sides report here; the second to finish switches collection off.
struct Unit {
    int remaining = 2;
    bool counted = false;
    void begin(bool count) {
        remaining = 2;
        counted = count;
        if (counted) CALLGRIND_TOGGLE_COLLECT;
    }
    void side_done() {
        if (--remaining == 0 && counted) CALLGRIND_TOGGLE_COLLECT;
    }
};

int handshake(bool resume) {
    test::TempDir dir;
    openssh::write_keypair(dir / "host", "bench-host", std::nullopt);
    openssh::write_keypair(dir / "user", "bench-user", std::nullopt);
    test::write_file(dir / "authorized_keys", test::read_file(dir / "user.pub"), 0600);
    const Authenticator server_keys =
        public_key(PublicKeyServerOptions{.host_key = dir / "host", .authorized_keys = dir / "authorized_keys"});
    const Authenticator client_keys = client::public_key({.identity = dir / "user", .known_hosts = dir / "known_hosts"});
    const Authenticator server_chain = ip_filter({.allow = {"127.0.0.0/8"}}) | secure_channel() |
                                       (resume ? resumption() | server_keys : server_keys);
    const Authenticator client_chain =
        client::secure_channel() | (resume ? client::resumption() | client_keys : client_keys);

    asio::io_context io(1);
    TcpListener listener(io.get_executor(), "127.0.0.1", 0);
    const auto port = listener.local_endpoint().port();
    // known_hosts names the gate as the tunnel dials it: [host]:port.
    test::write_file(dir / "known_hosts", fmt::format("[127.0.0.1]:{} {}", port, test::read_file(dir / "host.pub")),
                     0600);
    Unit unit;
    Server server(listener, server_chain, [&](Session s) -> asio::awaitable<void> {
        unit.side_done();
        char b;
        co_await s.stream.read_some(asio::buffer(&b, 1));  // until the client closes
    });
    asio::co_spawn(io, server.run(), asio::detached);
    auto client = asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        struct StopServer {
            Server& server;
            ~StopServer() { server.stop(); }  // also when the handshake fails: io.run() then returns
        } stop_server{server};
        const std::string host = "127.0.0.1";
        for (int round = 0; round < 2; ++round) {
            unit.begin(/*count=*/round == 1);
            Stream stream = co_await tcp_connect(host, port);
            Session s = co_await authenticate(std::move(stream), client_chain);
            unit.side_done();
            co_await s.stream.shutdown_send();  // a clean close (uncounted: collection is off by now)
        }
    }, asio::use_future);
    io.run();
    client.get();
    fmt::print("one {} handshake (ip_filter | secure_channel | {}public_key, ed25519), both sides\n",
               resume ? "resumed" : "full", resume ? "resumption | " : "");
    return 0;
}

int one_mib(const std::string& suite) {
    constexpr std::size_t total = 1 << 20, chunk = 64 * 1024;
    SecureChannelOptions options;
    options.suites = {suite};
    asio::io_context io(1);
    TcpListener listener(io.get_executor(), "127.0.0.1", 0);
    const auto port = listener.local_endpoint().port();
    Unit unit;
    auto server = asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const Authenticator chain = secure_channel(options);
        Stream accepted = co_await listener.accept();
        Session started = start_session(std::move(accepted));
        Session session = co_await chain(std::move(started));
        std::vector<std::uint8_t> buffer(chunk);
        for (int round = 0; round < 2; ++round) {
            for (std::size_t got = 0; got < total;) got += co_await session.stream.read_some(asio::buffer(buffer));
            unit.side_done();
        }
    }, asio::use_future);
    auto client = asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        const Authenticator chain = client::secure_channel(options);
        const std::string host = "127.0.0.1";
        Stream stream = co_await tcp_connect(host, port);
        Session started = start_session(std::move(stream));
        Session session = co_await chain(std::move(started));
        const std::vector<std::uint8_t> data(chunk, 0x5a);
        for (int round = 0; round < 2; ++round) {
            unit.begin(/*count=*/round == 1);
            for (std::size_t sent = 0; sent < total; sent += chunk) co_await write_all(session.stream, asio::buffer(data));
            unit.side_done();
        }
    }, asio::use_future);
    io.run();
    client.get();
    server.get();
    fmt::print("1 MiB through secure_channel {} (64 KiB writes), both sides\n", suite);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        if (argc == 2 && std::strcmp(argv[1], "handshake") == 0) return handshake(false);
        if (argc == 3 && std::strcmp(argv[1], "handshake") == 0 && std::strcmp(argv[2], "resumed") == 0)
            return handshake(true);
        if (argc == 3 && std::strcmp(argv[1], "1mib") == 0) return one_mib(argv[2]);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "bench-callgrind: %s\n", e.what());
        return 1;
    }
    std::fprintf(stderr, "usage: bench-callgrind handshake [resumed] | 1mib SUITE\n");
    return 2;
}
