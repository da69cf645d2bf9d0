// How the server driver maps what ended a handshake, over the pipe transport:
// refusals as thrown, I/O errors as protocol_error, bugs in a layer as
// internal_error (reported, never the peer's fault); nothing swallowed.
#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>
#include <new>
#include <stdexcept>

#include <authchain/compose/server.hpp>
#include "tests/support/run.hpp"
#include "tests/support/telling_stream.hpp"
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/secure_channel.hpp>

using namespace authchain;
using namespace std::chrono_literals;

namespace {

using authchain::test::sleep_for;


asio::awaitable<Session> note_a(Session s) {
    s.credentials.note("a", "passed");
    co_return s;
}

// Layer "a" passes, then `fail` runs on the session.
Authenticator a_then(std::function<void(Session&)> fail) {
    Authenticator a = [](Session s) { return note_a(std::move(s)); };
    Authenticator failing = [fail](Session s) -> asio::awaitable<Session> {
        fail(s);
        co_return s;
    };
    return a | failing;
}

struct Outcome {
    std::vector<AuditRecord> audit;
    std::vector<ServerError> errors;
    std::vector<std::string> handled;
};

// Serves one pipe connection with `chain` and `handler`; the client sends
// "x" and reads until the server closes.
Outcome serve_one_client(Authenticator chain, Handler handler = nullptr) {
    Outcome out;
    if (!handler) handler = [](Session) -> asio::awaitable<void> { co_return; };
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.handshake_timeout = 2s;
        opts.audit = [&](const AuditRecord& r) { out.audit.push_back(r); };
        opts.on_error = [&](const ServerError& e) { out.errors.push_back(e); };
        Server server(listener, chain, handler, opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        Stream client = listener.connect();
        co_await write_all(client, asio::buffer(std::string("x")));
        char buffer[16];
        try {
            while (co_await client.read_some(asio::buffer(buffer)) > 0) {
            }
        } catch (const std::system_error&) {
        }
        co_await sleep_for(10ms);
        server.stop();
        co_await sleep_for(10ms);
    });
    return out;
}

}  // namespace

TEST_CASE("server errors: a refusal is audited as thrown and is not an error") {
    auto out = serve_one_client(a_then([](Session&) { deny(DenyReason::denied, "not you"); }));
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::denied);
    CHECK(out.audit[0].detail == "not you");
    CHECK(out.audit[0].layers_passed == std::vector<std::string>{"transport", "a"});
    CHECK(out.errors.empty());
}

TEST_CASE("server errors: an I/O error (peer gone mid-handshake) is protocol_error, not an error") {
    Authenticator write_after_peer_left = [](Session s) -> asio::awaitable<Session> {
        char b;
        co_await read_exact(s.stream, asio::buffer(&b, 1));
        co_await sleep_for(20ms);  // the client has closed by now
        co_await write_all(s.stream, asio::buffer(std::string("late")));
        co_return s;
    };
    Outcome out;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.audit = [&](const AuditRecord& r) { out.audit.push_back(r); };
        opts.on_error = [&](const ServerError& e) { out.errors.push_back(e); };
        Server server(listener, write_after_peer_left, [](Session) -> asio::awaitable<void> { co_return; }, opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        Stream client = listener.connect();
        co_await write_all(client, asio::buffer(std::string("x")));
        client.close();
        co_await sleep_for(50ms);
        server.stop();
        co_await sleep_for(10ms);
    });
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::protocol_error);
    CHECK(out.errors.empty());
}

TEST_CASE("server errors: a std::system_error thrown by a layer is protocol_error") {
    auto out = serve_one_client(a_then([](Session&) {
        throw std::system_error(std::make_error_code(std::errc::connection_reset), "read");
    }));
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::protocol_error);
    CHECK(out.errors.empty());
}

TEST_CASE("server errors: CredentialConflict is internal_error, audited with its what() and reported") {
    auto out = serve_one_client(a_then([](Session& s) {
        s.credentials.prove("buggy", &Credentials::peer, s.stream.remote_endpoint(), "peer");
    }));
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::internal_error);
    CHECK(out.audit[0].detail == "internal error: layer buggy tried to overwrite proven fact peer");
    CHECK(out.audit[0].layers_passed == std::vector<std::string>{"transport", "a"});
    REQUIRE(out.errors.size() == 1);
    CHECK(out.errors[0].where == "handshake");
    CHECK(out.errors[0].what == out.audit[0].detail);
    CHECK(out.errors[0].peer.port() == 40000);
}

TEST_CASE("server errors: std::out_of_range is internal_error") {
    auto out = serve_one_client(a_then([](Session&) { (void)std::vector<int>{}.at(3); }));
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::internal_error);
    CHECK(out.audit[0].detail.rfind("internal error: ", 0) == 0);
    CHECK(out.errors.size() == 1);
}

TEST_CASE("server errors: bad_alloc is internal_error") {
    auto out = serve_one_client(a_then([](Session&) { throw std::bad_alloc(); }));
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::internal_error);
    CHECK(out.audit[0].detail == std::string("internal error: ") + std::bad_alloc().what());
    CHECK(out.errors.size() == 1);
}

TEST_CASE("server errors: a non-std exception is internal_error") {
    auto out = serve_one_client(a_then([](Session&) { throw 42; }));
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].reason == DenyReason::internal_error);
    CHECK(out.audit[0].detail == "internal error: unknown exception");
    CHECK(out.errors.size() == 1);
}

TEST_CASE("server errors: the handler's exception is reported, after an accepted audit") {
    Handler throws = [](Session) -> asio::awaitable<void> {
        throw std::runtime_error("backend unreachable");
        co_return;
    };
    auto out = serve_one_client(a_then([](Session&) {}), throws);
    REQUIRE(out.audit.size() == 1);
    CHECK(out.audit[0].accepted);
    REQUIRE(out.errors.size() == 1);
    CHECK(out.errors[0].where == "handler");
    CHECK(out.errors[0].what == "backend unreachable");
}

TEST_CASE("server errors: the peer is told only the coarse internal_error, through the secure channel") {
    std::vector<AuditRecord> audit;
    std::optional<DenyReason> told;
    std::string told_detail;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.audit = [&](const AuditRecord& r) { audit.push_back(r); };
        opts.on_error = [](const ServerError&) {};
        Authenticator bug = [](Session) -> asio::awaitable<Session> { throw std::out_of_range("secret detail"); };
        Authenticator chain = secure_channel() | bug;
        Server server(listener, chain, [](Session) -> asio::awaitable<void> { co_return; }, opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        Authenticator wait_for_server = [](Session s) -> asio::awaitable<Session> {
            char b;
            co_await read_exact(s.stream, asio::buffer(&b, 1));
            co_return s;
        };
        Authenticator client_chain = client::secure_channel() | wait_for_server;
        Stream connection = listener.connect();
        try {
            co_await authenticate(std::move(connection), client_chain);
        } catch (const AuthenticationError& e) {
            told = e.reason();
            told_detail = e.detail();
        }
        server.stop();
        co_await sleep_for(10ms);
    });
    CHECK(told == DenyReason::internal_error);
    CHECK(told_detail.find("secret detail") == std::string::npos);
    REQUIRE(audit.size() == 1);
    CHECK(audit[0].detail == "internal error: secret detail");
    CHECK(audit[0].layers_passed == std::vector<std::string>{"transport", "secure_channel"});
}

namespace {

}  // namespace

TEST_CASE("server errors: the driver sends one deny per refusal, on the top stream") {
    auto denies = std::make_shared<std::vector<DenyReason>>();
    Authenticator counting = [denies](Session s) -> asio::awaitable<Session> {
        s.stream = Stream::wrap<test::TellingStream>(std::move(s.stream), denies);
        co_return s;
    };
    Authenticator no = [](Session) -> asio::awaitable<Session> { deny(DenyReason::denied, "no"); };
    Authenticator chain = counting | no;
    auto out = serve_one_client(chain);
    REQUIRE(out.audit.size() == 1);
    CHECK(denies->size() == 1);
}
