#include <doctest/doctest.h>

#include <authchain/compose/session.hpp>
#include <authchain/compose/stream.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;

TEST_CASE("write_all and read_exact move every byte across a one-byte-at-a-time pipe") {
    auto got = test::run([](asio::any_io_executor ex) -> asio::awaitable<std::string> {
        PipeOptions o;
        o.server.faults.one_byte_at_a_time = true;
        o.capacity = 7;  // writers must wait: backpressure
        auto [c, s] = make_pipe(ex, o);
        std::string text(1000, 'x');
        for (std::size_t i = 0; i < text.size(); ++i) text[i] = static_cast<char>('a' + i % 26);
        asio::co_spawn(ex, [&c = c, text]() -> asio::awaitable<void> {
            co_await write_all(c, asio::buffer(text));
        }, asio::detached);
        std::string in(text.size(), '\0');
        co_await read_exact(s, asio::buffer(in));
        CHECK(in == text);
        co_return in;
    });
    CHECK(got.size() == 1000);
}

TEST_CASE("read_exact turns a premature end of stream into protocol_error") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await write_all(c, asio::buffer(std::string("abc")));
        co_await c.shutdown_send();
        char buf[8];
        try {
            co_await read_exact(s, asio::buffer(buf), "greeting");
            FAIL("no error");
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::protocol_error);
            CHECK(e.detail().find("greeting") != std::string::npos);
        }
    });
}

TEST_CASE("hold keeps an object alive until the last stream of the connection is gone") {
    auto token = std::make_shared<int>(7);
    std::weak_ptr<int> weak = token;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        s.hold(std::move(token));
        CHECK_FALSE(weak.expired());
        { Stream moved = std::move(s); CHECK_FALSE(weak.expired()); }
        CHECK(weak.expired());
        co_return;
    });
}

TEST_CASE("the trail points at the top stream and pinning keeps it alive") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        auto trail = s.trail();
        REQUIRE(trail);
        CHECK(trail->top() != nullptr);
        trail->pin();
        { Stream gone = std::move(s); }
        CHECK(trail->top() != nullptr);  // pinned: the driver can still deny and close
        trail->unpin();
        CHECK(trail->top() == nullptr);
        co_return;
    });
}

TEST_CASE("the trail follows the session's own proof log: progress is recorded once") {
    using Layers = std::vector<std::string>;
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        CHECK(s.trail()->layers_passed().empty());  // nothing tracked yet
        Session session = start_session(std::move(s));
        auto trail = session.stream.trail();
        CHECK(trail->layers_passed() == Layers{"transport"});
        // The log moves with the Session: proofs after the move show in the trail.
        Session moved = std::move(session);
        moved.credentials.note("a", "passed");
        CHECK(trail->layers_passed() == Layers{"transport", "a"});
        CHECK(moved.credentials.shared_log() != nullptr);
        // A copy has a log of its own: its proofs are not the connection's.
        Credentials copy = moved.credentials;
        copy.note("b", "ran on a copy");
        CHECK(copy.layers() == Layers{"transport", "a", "b"});
        CHECK(trail->layers_passed() == Layers{"transport", "a"});
        // The record outlives the Session that made it (the audit of a denial reads it then).
        { Session gone = std::move(moved); }
        CHECK(trail->layers_passed() == Layers{"transport", "a"});
        co_return;
    });
}

TEST_CASE("close_top closes the newest stream of the connection") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        auto trail = s.trail();
        trail->close_top();
        char x;
        CHECK(co_await c.read_some(asio::buffer(&x, 1)) == 0);  // the peer sees the end
        CHECK_FALSE(trail->pinned());
        trail->pin();
        CHECK(trail->pinned());
        trail->unpin();
        trail->unpin();  // idempotent
        CHECK_FALSE(trail->pinned());
    });
}
