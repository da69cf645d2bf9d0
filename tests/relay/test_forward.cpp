// forward / forward_to: an authenticated session taken to a backend.
//
//   client <-pipe-> [session  forward] <-loopback TCP-> backend (scripted)
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <authchain/compose/combinators.hpp>
#include <authchain/relay/forward.hpp>
#include <authchain/relay/proxy_v2.hpp>
#include "tests/support/run.hpp"
#include "tests/support/send_and_finish.hpp"
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using namespace asio::experimental::awaitable_operators;

namespace {

using authchain::test::pattern;
using authchain::test::read_to_end;
using authchain::test::send_and_finish;

// Reads to the end; a failed read (the stream was closed on us) ends it too.
asio::awaitable<std::string> read_until_closed(Stream& s) {
    std::string out;
    char buf[4096];
    try {
        for (;;) {
            std::size_t n = co_await s.read_some(asio::buffer(buf));
            if (n == 0) break;
            out.append(buf, n);
        }
    } catch (const std::exception&) {
    }
    co_return out;
}

Endpoint endpoint_of(const TcpListener& listener) { return {"127.0.0.1", listener.local_endpoint().port()}; }

// A session as a Server hands it over: the server end of a pipe, some facts proven.
Session accepted(Stream stream) {
    Session session = start_session(std::move(stream));
    session.credentials.prove("public_key", &Credentials::key_fingerprint, std::string("SHA256:abc"),
                              "key_fingerprint");
    session.credentials.prove("password", &Credentials::user, std::string("alice"), "user");
    return session;
}

// The client chain of the tests: knocks, then waits for the server's nod.
Authenticator knock_client() {
    return [](Session s) -> asio::awaitable<Session> {
        co_await write_all(s.stream, asio::buffer(std::string("knock\n")));
        char nod = 0;
        co_await read_exact(s.stream, asio::buffer(&nod, 1), "nod");
        s.credentials.prove_extra("knock", "nod", std::string(1, nod));
        co_return s;
    };
}

// Its server side: nods to a knock unless told to refuse.
Authenticator knock_server(bool refuse) {
    return [refuse](Session s) -> asio::awaitable<Session> {
        std::string line(6, '\0');
        co_await read_exact(s.stream, asio::buffer(line), "knock");
        if (refuse || line != "knock\n") deny(DenyReason::denied, "no entry");
        co_await write_all(s.stream, asio::buffer(std::string("y")));
        co_return s;
    };
}

}  // namespace

TEST_CASE("forward: bytes arrive both ways; the client's half-close reaches the backend, the reply still flows") {
    const std::string up = pattern(300000, 1), down = pattern(500000, 2);
    auto [summary, request, reply] = test::run([&](asio::any_io_executor ex) -> asio::awaitable<
                                                   std::tuple<ForwardSummary, std::string, std::string>> {
        TcpListener backend(ex);
        auto ends = make_pipe(ex);
        Stream& client = ends.first;
        Stream& server_end = ends.second;
        Session session = accepted(std::move(server_end));
        Endpoint target = endpoint_of(backend);
        ForwardOptions options;
        std::string request, reply;
        auto backend_side = [&]() -> asio::awaitable<void> {
            Stream s = co_await backend.accept();
            request = co_await read_to_end(s);  // ends only by the half-close
            co_await send_and_finish(s, down);
            co_await read_to_end(s);
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(client, up);
            reply = co_await read_to_end(client);
        };
        auto s = co_await (forward(session, target, options) && (backend_side() && client_side()));
        co_return std::tuple{s, request, reply};
    });
    CHECK(request == up);
    CHECK(reply == down);
    CHECK(summary.outcome == ForwardOutcome::forwarded);
    CHECK(summary.client_to_backend == up.size());
    CHECK(summary.backend_to_client == down.size());
    CHECK(summary.closed_first == ForwardSide::client);
    CHECK(summary.error_text.empty());
    CHECK(summary.duration >= summary.setup);
}

TEST_CASE("forward: the PROXY v2 header goes first, to the address the client dialled, with the identity TLVs") {
    auto [header, rest] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                        std::pair<proxy_v2::Header, std::string>> {
        TcpListener backend(ex);
        auto ends = make_pipe(ex);  // the client is 127.0.0.1:40000, it dialled 127.0.0.1:5000
        Stream& client = ends.first;
        Stream& server_end = ends.second;
        Session session = accepted(std::move(server_end));
        Endpoint target = endpoint_of(backend);
        ForwardOptions options{.proxy_v2 = true};
        std::string received;
        auto backend_side = [&]() -> asio::awaitable<void> {
            Stream s = co_await backend.accept();
            received = co_await read_to_end(s);
            co_await s.shutdown_send();
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(client, "after the header");
            co_await read_to_end(client);
        };
        co_await (forward(session, target, options) && (backend_side() && client_side()));
        auto parsed = proxy_v2::parse(as_bytes(received));
        if (!parsed) throw std::runtime_error("no complete PROXY header");
        co_return std::pair{parsed->header, received.substr(parsed->size)};
    });
    CHECK_FALSE(header.local);
    CHECK(header.source == asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 40000));
    CHECK(header.destination == asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 5000));
    auto has = [&header = header](proxy_v2::Tlv type, const std::string& value) {
        proxy_v2::TlvEntry want{static_cast<std::uint8_t>(type), value};
        return std::find(header.tlvs.begin(), header.tlvs.end(), want) != header.tlvs.end();
    };
    CHECK(has(proxy_v2::Tlv::key_fingerprint, "SHA256:abc"));
    CHECK(has(proxy_v2::Tlv::user, "alice"));
    CHECK(rest == "after the header");
}

TEST_CASE("forward: a client stream that cannot say what it dialled gets the configured destination") {
    auto header = test::run([](asio::any_io_executor ex) -> asio::awaitable<proxy_v2::Header> {
        TcpListener backend(ex);
        PipeOptions pipe;
        pipe.server.endpoint = {};  // local_endpoint() unknown
        auto ends = make_pipe(ex, pipe);
        Stream& client = ends.first;
        Stream& server_end = ends.second;
        Session session = accepted(std::move(server_end));
        Endpoint target = endpoint_of(backend);
        ForwardOptions options{.proxy_v2 = true,
                               .proxy_destination = {asio::ip::make_address("192.0.2.7"), 7000}};
        std::string received;
        auto backend_side = [&]() -> asio::awaitable<void> {
            Stream s = co_await backend.accept();
            received = co_await read_to_end(s);
            co_await s.shutdown_send();
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await client.shutdown_send();
            co_await read_to_end(client);
        };
        co_await (forward(session, target, options) && (backend_side() && client_side()));
        auto parsed = proxy_v2::parse(as_bytes(received));
        if (!parsed) throw std::runtime_error("no complete PROXY header");
        co_return parsed->header;
    });
    CHECK(header.destination == asio::ip::tcp::endpoint(asio::ip::make_address("192.0.2.7"), 7000));
}

TEST_CASE("forward: a backend that is down is reported and the client stream is closed") {
    auto [summary, client_saw] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                               std::pair<ForwardSummary, std::string>> {
        Endpoint target;
        {
            TcpListener gone(ex);  // a port nobody listens on any more
            target = endpoint_of(gone);
        }
        auto ends = make_pipe(ex);
        Stream& client = ends.first;
        Stream& server_end = ends.second;
        Session session = accepted(std::move(server_end));
        ForwardOptions options{.proxy_v2 = true};
        std::string saw;
        auto client_side = [&]() -> asio::awaitable<void> { saw = co_await read_until_closed(client); };
        auto s = co_await (forward(session, target, options) && client_side());
        co_return std::pair{s, saw};
    });
    CHECK(summary.outcome == ForwardOutcome::backend_unavailable);
    CHECK(summary.error_text.find("refused") != std::string::npos);
    CHECK(summary.client_to_backend == 0);
    CHECK(client_saw.empty());  // end of stream, nothing else
}

TEST_CASE("forward: with a client chain, the backend's server chain accepts and the bytes flow") {
    auto [summary, request, reply] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                                   std::tuple<ForwardSummary, std::string, std::string>> {
        TcpListener gate_listener(ex);
        std::string request;
        Authenticator gate_chain = secure_channel() | knock_server(false);
        Server gate(gate_listener, gate_chain, [&request](Session s) -> asio::awaitable<void> {
            request = co_await read_to_end(s.stream);
            co_await send_and_finish(s.stream, "welcome");
        });
        asio::co_spawn(ex, gate.run(), asio::detached);

        auto ends = make_pipe(ex);

        Stream& client = ends.first;

        Stream& server_end = ends.second;
        Session session = start_session(std::move(server_end));
        Endpoint target = endpoint_of(gate_listener);
        ForwardOptions options{.client_chain = client::secure_channel() | knock_client()};
        std::string reply;
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(client, "hello gate");
            reply = co_await read_to_end(client);
        };
        auto s = co_await (forward(session, target, options) && client_side());
        gate.stop();
        co_return std::tuple{s, request, reply};
    });
    CHECK(summary.outcome == ForwardOutcome::forwarded);
    CHECK(request == "hello gate");
    CHECK(reply == "welcome");
    REQUIRE(summary.backend_credentials);
    auto layers = summary.backend_credentials->layers();
    CHECK(std::find(layers.begin(), layers.end(), "secure_channel") != layers.end());
    CHECK(summary.backend_credentials->extra().at("nod") == "y");
}

TEST_CASE("forward: with a client chain, a refusal by the backend is reported with its reason") {
    auto [summary, reached, client_saw] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                                        std::tuple<ForwardSummary, bool, std::string>> {
        TcpListener gate_listener(ex);
        bool reached = false;
        Authenticator gate_chain = secure_channel() | knock_server(true);
        Server gate(gate_listener, gate_chain, [&reached](Session) -> asio::awaitable<void> {
            reached = true;
            co_return;
        });
        asio::co_spawn(ex, gate.run(), asio::detached);

        auto ends = make_pipe(ex);

        Stream& client = ends.first;

        Stream& server_end = ends.second;
        Session session = start_session(std::move(server_end));
        Endpoint target = endpoint_of(gate_listener);
        ForwardOptions options{.client_chain = client::secure_channel() | knock_client()};
        std::string saw;
        auto client_side = [&]() -> asio::awaitable<void> { saw = co_await read_until_closed(client); };
        auto s = co_await (forward(session, target, options) && client_side());
        gate.stop();
        co_return std::tuple{s, reached, saw};
    });
    CHECK(summary.outcome == ForwardOutcome::refused);
    REQUIRE(summary.refusal.has_value());
    CHECK(*summary.refusal == DenyReason::denied);
    CHECK_FALSE(reached);
    CHECK(client_saw.empty());
}

TEST_CASE("forward_to: a Server hands each session over and reports its summary") {
    auto reports = test::run([](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::string>> {
        TcpListener backend(ex);
        PipeListener listener(ex);
        std::vector<std::string> reports;
        ForwardReport report = [&reports](const Session& client, const ForwardSummary& s) {
            reports.push_back(std::string(to_string(s.outcome)) + " " + std::to_string(s.client_to_backend) + " " +
                              std::to_string(s.backend_to_client) + " " +
                              client.credentials.layers().back());
        };
        Authenticator chain = check([](const Credentials&) { return true; }, "everyone");
        Server server(listener, chain, forward_to(endpoint_of(backend), {}, report));
        asio::co_spawn(ex, server.run(), asio::detached);

        Stream client = listener.connect();
        auto backend_side = [&]() -> asio::awaitable<void> {
            Stream s = co_await backend.accept();
            co_await read_to_end(s);
            co_await send_and_finish(s, "pong");
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            co_await send_and_finish(client, "ping");
            co_await read_to_end(client);
        };
        co_await (backend_side() && client_side());
        for (int i = 0; i < 100 && reports.empty(); ++i) co_await test::sleep_for(std::chrono::milliseconds(10));
        server.stop();
        co_return reports;
    });
    REQUIRE(reports.size() == 1);
    CHECK(reports[0] == "forwarded 4 4 everyone");
}

TEST_CASE("forward: closing from outside ends a live pump; afterwards new forwards are turned away") {
    auto [first, second, accepted_count] = test::run([](asio::any_io_executor ex) -> asio::awaitable<
                                                         std::tuple<ForwardSummary, ForwardSummary, int>> {
        TcpListener backend(ex);
        auto live = std::make_shared<LiveForwards>();
        Endpoint target = endpoint_of(backend);
        ForwardOptions options{.live = live};
        int accepted_count = 0;
        std::vector<Stream> backends;
        auto backend_side = [&]() -> asio::awaitable<void> {
            Stream s = co_await backend.accept();  // then stays silent, never closes
            backends.push_back(std::move(s));
            ++accepted_count;
        };
        auto ends = make_pipe(ex);
        Stream& client = ends.first;
        Stream& server_end = ends.second;
        Session session = accepted(std::move(server_end));
        std::size_t closed = 0;
        auto outside = [&]() -> asio::awaitable<void> {
            co_await write_all(client, asio::buffer(std::string("half a request")));
            while (live->size() == 0) co_await test::sleep_for(std::chrono::milliseconds(5));
            closed = co_await live->shutdown(std::chrono::milliseconds(50));
        };
        auto s1 = co_await (forward(session, target, options) && (backend_side() && outside()));
        CHECK(closed == 1);
        CHECK(live->size() == 0);

        auto [client2, server_end2] = make_pipe(ex);
        Session late = accepted(std::move(server_end2));
        auto s2 = co_await forward(late, target, options);
        co_return std::tuple{s1, s2, accepted_count};
    });
    CHECK(first.outcome == ForwardOutcome::closed);
    CHECK(first.client_to_backend == 14);
    CHECK(second.outcome == ForwardOutcome::stopping);
    CHECK(accepted_count == 1);  // the late one never dialled the backend
}
