// An event loop per core (compose/event_loops.hpp) with a LoopListener
// (relay/loop_listener.hpp) and the Server, over real loopback TCP:
// connections land on different loops and stay on their loop's thread;
// stopping the Server and the loops with live connections.
#include <doctest/doctest.h>

#include <poll.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <authchain/auth/connection_limit.hpp>
#include <authchain/auth/failure_throttle.hpp>
#include <authchain/compose/event_loops.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/relay/loop_listener.hpp>

using namespace authchain;

namespace {

// What the handler saw of one connection.
struct Seen {
    std::size_t loop_at_start = 0;      // EventLoops::current() when the handler began
    std::size_t loop_after_io = 0;      // ... after a read and a write
    std::size_t stream_loop = 0;        // index_of(the stream's executor)
    std::thread::id thread_at_start{};
    std::thread::id thread_after_io{};
};

struct Recorder {
    std::mutex mutex;
    std::vector<Seen> seen;
    void add(Seen s) {
        std::lock_guard lock(mutex);
        seen.push_back(s);
    }
    std::vector<Seen> all() {
        std::lock_guard lock(mutex);
        return seen;
    }
};

// Echoes one byte after recording where it runs.
Handler echo_where(EventLoops& loops, Recorder& recorder) {
    return [&loops, &recorder](Session s) -> asio::awaitable<void> {
        Seen seen;
        seen.loop_at_start = loops.current();
        seen.thread_at_start = std::this_thread::get_id();
        seen.stream_loop = loops.index_of(s.stream.get_executor());
        char byte = 0;
        co_await read_exact(s.stream, asio::buffer(&byte, 1), "byte");
        co_await write_all(s.stream, asio::buffer(&byte, 1));
        seen.loop_after_io = loops.current();
        seen.thread_after_io = std::this_thread::get_id();
        recorder.add(seen);
    };
}

// A blocking client socket; reads are bounded by poll() (10 s).
struct Client {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
    explicit Client(std::uint16_t port) { socket.connect({asio::ip::make_address("127.0.0.1"), port}); }
    bool readable_within(int ms) {
        pollfd p{socket.native_handle(), POLLIN, 0};
        return ::poll(&p, 1, ms) == 1;
    }
    // The echoed byte, or -1 on end of stream/error/no answer within the bound.
    int round_trip(char byte) {
        std::error_code ec;
        asio::write(socket, asio::buffer(&byte, 1), ec);  // a refused client may find it closed (EPIPE)
        if (ec || !readable_within(10000)) return -1;
        char back = 0;
        std::size_t n = socket.read_some(asio::buffer(&back, 1), ec);
        return ec || n != 1 ? -1 : back;
    }
    // True when the connection ends (end of stream or reset) within the bound.
    bool ends_within(int ms) {
        if (!readable_within(ms)) return false;
        char b = 0;
        std::error_code ec;
        socket.read_some(asio::buffer(&b, 1), ec);
        return static_cast<bool>(ec);
    }
};

Authenticator accept_all() {
    return [](Session s) -> asio::awaitable<Session> { co_return s; };
}

}  // namespace

TEST_CASE("event loops: next() takes each loop in turn; index_of and owns know a loop's executors, strands too") {
    EventLoops loops(3);
    REQUIRE(loops.size() == 3);
    std::vector<std::size_t> order;
    for (int i = 0; i < 6; ++i) order.push_back(loops.index_of(loops.next()));
    CHECK(order == std::vector<std::size_t>{0, 1, 2, 0, 1, 2});
    CHECK(loops.index_of(asio::make_strand(loops.executor(1))) == 1);
    asio::io_context other;
    CHECK_FALSE(loops.owns(other.get_executor()));
    CHECK(loops.index_of(other.get_executor()) == 3);
    CHECK(loops.current() == 3);  // this thread runs none of them
    CHECK(EventLoops(0).size() == EventLoops::cores());
}

TEST_CASE("event loops: each loop runs on its own thread, named loop-N, until stop(); join() waits") {
    EventLoops loops(2);
    loops.start();
    std::promise<std::pair<std::size_t, std::thread::id>> on0, on1;
    asio::post(loops.executor(0), [&] { on0.set_value({loops.current(), std::this_thread::get_id()}); });
    asio::post(loops.executor(1), [&] {
        char name[16] = {};
        pthread_getname_np(pthread_self(), name, sizeof name);
        CHECK(std::string(name) == "loop-1");
        on1.set_value({loops.current(), std::this_thread::get_id()});
    });
    auto a = on0.get_future().get();
    auto b = on1.get_future().get();
    CHECK(a.first == 0);
    CHECK(b.first == 1);
    CHECK(a.second != b.second);
    CHECK(a.second != std::this_thread::get_id());
    CHECK_THROWS_AS(loops.start(), std::logic_error);
    loops.stop();
    loops.join();
    CHECK(loops.context(0).stopped());
    CHECK(loops.context(1).stopped());
}

TEST_CASE("event loops: a Server with a LoopListener spreads connections over the loops; each stays on its thread") {
    Recorder recorder;
    {
        EventLoops loops(2);
        asio::io_context control;  // the accept loop's own thread: this one
        LoopListener listener(control.get_executor());
        Server server(listener, accept_all(), echo_where(loops, recorder), {.loops = &loops});
        asio::co_spawn(control, server.run(), asio::detached);
        loops.start();
        std::thread accepting([&control] { control.run(); });
        const std::uint16_t port = listener.local_endpoint().port();

        constexpr int connections = 6;
        for (int i = 0; i < connections; ++i) {
            Client c(port);
            CHECK(c.round_trip(static_cast<char>('a' + i)) == 'a' + i);
        }
        // Bounded wait for the last handler to record (it writes, then records).
        for (int i = 0; i < 500 && recorder.all().size() < connections; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        asio::post(control, [&server] { server.stop(); });
        accepting.join();
        loops.stop();
        loops.join();

        auto seen = recorder.all();
        REQUIRE(seen.size() == connections);
        std::set<std::size_t> used;
        std::set<std::thread::id> threads;
        for (const auto& s : seen) {
            CHECK(s.loop_at_start < 2);
            CHECK(s.loop_at_start == s.stream_loop);   // the socket lives on the loop that serves it
            CHECK(s.loop_after_io == s.loop_at_start);  // and never moves
            CHECK(s.thread_after_io == s.thread_at_start);
            used.insert(s.loop_at_start);
            threads.insert(s.thread_at_start);
        }
        CHECK(used.size() == 2);
        CHECK(threads.size() == 2);
    }
}

TEST_CASE("event loops: Server::stop with live connections on several loops: they keep running; "
          "the loops then stop and join") {
    EventLoops loops(2);
    asio::io_context control;
    LoopListener listener(control.get_executor());
    std::atomic<int> holding{0};
    Handler hold = [&holding](Session s) -> asio::awaitable<void> {
        ++holding;
        std::array<char, 64> buffer{};
        // Echo until the client closes: a live connection.
        for (;;) {
            std::size_t n = co_await s.stream.read_some(asio::buffer(buffer));
            if (n == 0) break;
            co_await write_all(s.stream, asio::buffer(buffer.data(), n));
        }
    };
    Server server(listener, accept_all(), hold, {.loops = &loops});
    asio::co_spawn(control, server.run(), asio::detached);
    loops.start();
    std::thread accepting([&control] { control.run(); });
    const std::uint16_t port = listener.local_endpoint().port();

    std::vector<std::unique_ptr<Client>> live;
    for (int i = 0; i < 4; ++i) live.push_back(std::make_unique<Client>(port));
    for (auto& c : live) CHECK(c->round_trip('x') == 'x');
    CHECK(holding == 4);

    asio::post(control, [&server] { server.stop(); });
    accepting.join();  // run() returned: the listener is closed
    asio::io_context io;
    asio::ip::tcp::socket refused(io);
    std::error_code ec;
    refused.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    CHECK(ec);  // no longer accepting
    for (auto& c : live) CHECK(c->round_trip('y') == 'y');  // still served, on their loops

    loops.stop();
    loops.join();
}

TEST_CASE("event loops: destroying stopped loops closes the connections still on them") {
    std::vector<std::unique_ptr<Client>> live;
    asio::io_context control;
    auto loops = std::make_unique<EventLoops>(2);
    LoopListener listener(control.get_executor());
    Handler hold = [](Session s) -> asio::awaitable<void> {
        std::array<char, 16> buffer{};
        for (;;) {
            std::size_t n = co_await s.stream.read_some(asio::buffer(buffer));
            if (n == 0) break;
            co_await write_all(s.stream, asio::buffer(buffer.data(), n));
        }
    };
    Server server(listener, accept_all(), hold, {.loops = loops.get()});
    asio::co_spawn(control, server.run(), asio::detached);
    loops->start();
    std::thread accepting([&control] { control.run(); });
    const std::uint16_t port = listener.local_endpoint().port();
    for (int i = 0; i < 4; ++i) live.push_back(std::make_unique<Client>(port));
    for (auto& c : live) CHECK(c->round_trip('z') == 'z');
    asio::post(control, [&server] { server.stop(); });
    accepting.join();
    loops.reset();  // stops, joins, destroys what was queued: the handlers' frames and their sockets
    for (auto& c : live) CHECK(c->ends_within(10000));
}

TEST_CASE("event loops: connection_limit and failure_throttle, shared by connections on several loops, count exactly") {
    EventLoops loops(2);
    asio::io_context control;
    LoopListener listener(control.get_executor());
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 3});
    // 'y' passes, anything else is a failure the throttle counts.
    Authenticator knock = [](Session s) -> asio::awaitable<Session> {
        char b = 0;
        co_await read_exact(s.stream, asio::buffer(&b, 1), "knock");
        if (b != 'y') deny(DenyReason::denied, "wrong knock");
        co_return s;
    };
    Authenticator throttled = failure_throttle(table, knock);
    Authenticator limit = connection_limit(4, 4);
    Authenticator chain = limit | throttled;
    Handler echo = [](Session s) -> asio::awaitable<void> {
        std::array<char, 16> buffer{};
        for (;;) {
            std::size_t n = co_await s.stream.read_some(asio::buffer(buffer));
            if (n == 0) break;
            co_await write_all(s.stream, asio::buffer(buffer.data(), n));
        }
    };
    Server server(listener, chain, echo, {.loops = &loops});
    asio::co_spawn(control, server.run(), asio::detached);
    loops.start();
    std::thread accepting([&control] { control.run(); });
    const std::uint16_t port = listener.local_endpoint().port();
    auto knocked = [port](char knock) {
        auto c = std::make_unique<Client>(port);
        std::error_code ec;
        asio::write(c->socket, asio::buffer(&knock, 1), ec);  // a refused one may be closed already
        return c;
    };

    // Four sessions (two per loop) hold every slot; a fifth is refused busy.
    // One at a time: the throttle counts attempts in flight against
    // max_failures, so four knocks still in the chain at once would see the
    // fourth refused (under TSan's pace, often).
    std::vector<std::unique_ptr<Client>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(knocked('y'));
        CHECK(held.back()->round_trip('x') == 'x');
    }
    auto fifth = knocked('y');
    CHECK(fifth->round_trip('x') == -1);
    // Their slots come back when they end, on whichever loop: bounded retries.
    held.clear();
    int answered = -1;
    for (int i = 0; i < 500 && answered != 'x'; ++i) {
        auto again = knocked('y');
        answered = again->round_trip('x');
        if (answered != 'x') std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(answered == 'x');

    // Three failures from one source, whichever loops ran them, block it.
    for (int i = 0; i < 3; ++i) CHECK(knocked('n')->ends_within(10000));
    CHECK(table->blocked(asio::ip::make_address("127.0.0.1")));
    CHECK(knocked('y')->round_trip('x') == -1);

    asio::post(control, [&server] { server.stop(); });
    accepting.join();
    loops.stop();
    loops.join();
}
