#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>

#include <authchain/compose/server.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace std::chrono_literals;

namespace {

using authchain::test::sleep_for;


// Server chain: the client must send "ok" first.
Authenticator password_byte() {
    return [](Session s) -> asio::awaitable<Session> {
        char b[2];
        co_await read_exact(s.stream, asio::buffer(b), "hello");
        if (std::string_view(b, 2) != "ok") deny(DenyReason::denied, "bad hello");
        s.credentials.prove("hello", &Credentials::user, std::string("tester"), "user");
        co_return s;
    };
}

struct Harness {
    std::vector<std::string> handled;  // users that reached the handler
    std::vector<AuditRecord> audit;
};

}  // namespace

TEST_CASE("server: only sessions that pass reach the handler; refusals are audited") {
    Harness h;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.audit = [&](const AuditRecord& r) { h.audit.push_back(r); };
        Server server(listener, password_byte(),
                      [&](Session s) -> asio::awaitable<void> {
                          h.handled.push_back(*s.credentials.user);
                          co_await write_all(s.stream, asio::buffer(std::string("hi")));
                      },
                      opts);
        asio::co_spawn(ex, server.run(), asio::detached);

        Stream good = listener.connect();
        co_await write_all(good, asio::buffer(std::string("ok")));
        char reply[2];
        co_await read_exact(good, asio::buffer(reply));
        CHECK(std::string_view(reply, 2) == "hi");

        Stream bad = listener.connect();
        co_await write_all(bad, asio::buffer(std::string("no")));
        char x;
        CHECK(co_await bad.read_some(asio::buffer(&x, 1)) == 0);  // closed by the server
        server.stop();
        co_await sleep_for(10ms);
    });
    CHECK(h.handled == std::vector<std::string>{"tester"});
    REQUIRE(h.audit.size() == 2);
    CHECK(h.audit[0].accepted);
    CHECK(h.audit[0].identity == "user tester");
    CHECK_FALSE(h.audit[1].accepted);
    CHECK(h.audit[1].reason == DenyReason::denied);
    CHECK(h.audit[1].detail == "bad hello");
}

TEST_CASE("server: a silent client is refused at the handshake deadline") {
    Harness h;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.handshake_timeout = 50ms;
        opts.audit = [&](const AuditRecord& r) { h.audit.push_back(r); };
        Server server(listener, password_byte(),
                      [&](Session) -> asio::awaitable<void> { h.handled.push_back("x"); co_return; }, opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        Stream silent = listener.connect();
        char x;
        CHECK(co_await silent.read_some(asio::buffer(&x, 1)) == 0);
        server.stop();
        co_await sleep_for(10ms);
    });
    CHECK(h.handled.empty());
    REQUIRE(h.audit.size() == 1);
    CHECK(h.audit[0].reason == DenyReason::timeout);
}

TEST_CASE("server: connections beyond max_handshakes are closed at once as busy") {
    Harness h;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.max_handshakes = 2;
        opts.max_handshakes_per_source = 2;  // both from one address here
        opts.handshake_timeout = 2s;
        opts.audit = [&](const AuditRecord& r) { h.audit.push_back(r); };
        Server server(listener, password_byte(),
                      [&](Session s) -> asio::awaitable<void> { h.handled.push_back(*s.credentials.user); co_return; },
                      opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        Stream slow1 = listener.connect();
        Stream slow2 = listener.connect();
        co_await sleep_for(10ms);
        CHECK(server.in_handshake() == 2);
        Stream third = listener.connect();
        char x;
        CHECK(co_await third.read_some(asio::buffer(&x, 1)) == 0);
        // The two slow ones still complete.
        co_await write_all(slow1, asio::buffer(std::string("ok")));
        co_await write_all(slow2, asio::buffer(std::string("ok")));
        co_await sleep_for(20ms);
        CHECK(server.in_handshake() == 0);
        server.stop();
        co_await sleep_for(10ms);
    });
    CHECK(h.handled.size() == 2);
    REQUIRE(h.audit.size() == 3);
    CHECK(h.audit[0].reason == DenyReason::busy);
}

TEST_CASE("client driver: refusal by the client chain raises and closes the stream") {
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        try {
            const Authenticator refuse_all = check([](const Credentials&) { return false; }, "client_check");
            co_await authenticate(std::move(c), refuse_all);
            FAIL("not refused");
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::denied);
        }
        char x;
        CHECK(co_await s.read_some(asio::buffer(&x, 1)) == 0);
    });
}

TEST_CASE("client driver: a stalled server hits the client's deadline") {
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        Authenticator wait_for_server = [](Session s2) -> asio::awaitable<Session> {
            char b;
            co_await read_exact(s2.stream, asio::buffer(&b, 1));
            co_return s2;
        };
        try {
            co_await authenticate(std::move(c), wait_for_server, {.handshake_timeout = 30ms});
            FAIL("not refused");
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::timeout);
        }
    });
}
