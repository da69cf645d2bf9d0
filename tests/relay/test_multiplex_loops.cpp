// serve_multiplexed and MultiplexDialer over real loopback sockets, each
// side on two event loops: many clients at once ride a channel per tunnel
// loop, and a graceful stop closes the channels cleanly. The relay suite
// runs under TSan in CI, so this is also the dialer's concurrency test.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <vector>

#include "tests/support/run.hpp"
#include "tests/support/send_and_finish.hpp"
#include <authchain/compose/event_loops.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/relay/forward.hpp>
#include <authchain/relay/loop_listener.hpp>
#include <authchain/relay/multiplex.hpp>

namespace multiplex_loops_test {

using authchain::EventLoops;
using authchain::test::pattern;
using authchain::Session;
using authchain::Stream;

// Echoes everything a stream sends, then ends it.
asio::awaitable<void> echo_session(Session s) {
    const std::string got = co_await authchain::test::read_to_end(s.stream);
    co_await authchain::test::send_and_finish(s.stream, got);
}

// A blocking loopback client: sends `out`, half-closes, reads to the end
// (bounded by SO_RCVTIMEO: 10 s per read).
std::string round_trip(std::uint16_t port, const std::string& out) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    timeval limit{10, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    asio::write(socket, asio::buffer(out));
    socket.shutdown(asio::ip::tcp::socket::shutdown_send);
    std::string in;
    char buf[8192];
    std::error_code ec;
    for (int i = 0; i < 100000 && !ec; ++i) {
        const std::size_t n = socket.read_some(asio::buffer(buf), ec);
        in.append(buf, n);
    }
    return in;
}

TEST_CASE("multiplex: a tunnel and a gate on two event loops each: 24 clients at once ride at most two channels, "
          "every byte echoed") {
    // The gate: each stream echoed; channels counted when they end.
    EventLoops gate_loops(2), tunnel_loops(2);
    asio::io_context control;
    authchain::LoopListener gate_listener(control.get_executor());
    auto channels = std::make_shared<authchain::ChannelSet>();
    std::mutex mutex;
    std::vector<authchain::ChannelSummary> ended;
    auto report = [&](const Session&, const authchain::ChannelSummary& summary) {
        std::lock_guard lock(mutex);
        ended.push_back(summary);
    };
    authchain::Server gate(gate_listener, authchain::pass(), authchain::serve_multiplexed(echo_session, {}, report, channels),
                           {.loops = &gate_loops});
    // The tunnel: each local connection forwarded over a stream.
    const std::uint16_t gate_port = gate_listener.local_endpoint().port();
    auto live = std::make_shared<authchain::LiveForwards>();
    auto dialer = std::make_shared<authchain::MultiplexDialer>(
        authchain::parse_host_port("127.0.0.1:" + std::to_string(gate_port)),
        authchain::DialOptions{.client_chain = authchain::pass(), .live = live});
    authchain::LoopListener tunnel_listener(control.get_executor());
    authchain::ForwardOptions forward{.open = dialer->opener()};
    authchain::Server tunnel(tunnel_listener, authchain::pass(),
                             authchain::forward_to(authchain::parse_host_port("127.0.0.1:1"), forward),
                             {.loops = &tunnel_loops});
    asio::co_spawn(control, gate.run(), asio::detached);
    asio::co_spawn(control, tunnel.run(), asio::detached);
    gate_loops.start();
    tunnel_loops.start();
    std::thread accepting([&control] { control.run(); });
    const std::uint16_t port = tunnel_listener.local_endpoint().port();

    constexpr int clients = 24;
    std::vector<std::string> sent(clients), got(clients);
    std::vector<std::thread> threads;
    for (int i = 0; i < clients; ++i) {
        sent[static_cast<std::size_t>(i)] = pattern(std::size_t{1000} << (i % 8), static_cast<unsigned>(i));
        threads.emplace_back([&, i] { got[static_cast<std::size_t>(i)] = round_trip(port, sent[static_cast<std::size_t>(i)]); });
    }
    for (auto& t : threads) t.join();
    for (int i = 0; i < clients; ++i) CHECK(got[static_cast<std::size_t>(i)] == sent[static_cast<std::size_t>(i)]);
    CHECK(channels->size() >= 1);
    CHECK(channels->size() <= 2);  // one per tunnel loop

    // The tunnel stops gracefully: its idle channels close cleanly, and the
    // gate counts each one's streams.
    live->stop();
    for (int i = 0; i < 500 && channels->size() > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    CHECK(channels->size() == 0);
    asio::post(control, [&] {
        tunnel.stop();
        gate.stop();
    });
    accepting.join();
    tunnel_loops.stop();
    tunnel_loops.join();
    gate_loops.stop();
    gate_loops.join();
    std::lock_guard lock(mutex);
    std::uint64_t streams = 0;
    for (const auto& e : ended) streams += e.streams;
    CHECK(ended.size() <= 2);
    CHECK(streams == clients);
    for (const auto& e : ended) CHECK(e.end_reason == "end of stream");
}

}  // namespace multiplex_loops_test
