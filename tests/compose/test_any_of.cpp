// any_of: negotiation, retries, limits and the transcript binding, over the
// pipe with small scripted methods that prove the channel id they see.
#include <doctest/doctest.h>

#include <array>
#include <asio/experimental/awaitable_operators.hpp>

#include <authchain/compose/any_of.hpp>
#include <authchain/compose/detail/any_of_messages.hpp>
#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;
using namespace asio::experimental::awaitable_operators;
using pk_test::channel_a;
using pk_test::handshake;
using pk_test::pipe_with;
using pk_test::Result;
namespace wire = authchain::detail;

namespace {

// A method like public_key in miniature: the client sends the channel id it
// sees (uint32 length || bytes); the server accepts when it equals its own
// and `accept` is true, sending one verdict byte (0 or 3) before it denies.
Authenticator server_method(std::string name, bool accept = true) {
    return [name, accept](Session s) -> asio::awaitable<Session> {
        std::array<std::uint8_t, 4> header{};
        co_await read_exact(s.stream, asio::buffer(header), "M1");
        if (header[0] || header[1] || header[2] > 4) deny(DenyReason::protocol_error, "M1: too long");
        Bytes seen(std::size_t{header[2]} << 8 | header[3]);
        co_await read_exact(s.stream, asio::buffer(seen), "M1");
        bool ok = accept && seen == s.stream.protection().channel_id;
        std::uint8_t verdict = ok ? 0 : 3;
        co_await write_all(s.stream, asio::buffer(&verdict, 1));
        if (!ok) deny(DenyReason::denied, name + " refused (" + (accept ? "other channel" : "always") + ")");
        s.credentials.prove_extra(name, "method", name);
        co_return s;
    };
}

Authenticator client_method(std::string name) {
    return [name](Session s) -> asio::awaitable<Session> {
        Bytes cid = s.stream.protection().channel_id;
        Bytes m1{0, 0, static_cast<std::uint8_t>(cid.size() >> 8), static_cast<std::uint8_t>(cid.size())};
        m1.insert(m1.end(), cid.begin(), cid.end());
        co_await write_all(s.stream, asio::buffer(m1));
        std::uint8_t verdict = 0;
        co_await read_exact(s.stream, asio::buffer(&verdict, 1), "M2");
        if (verdict != 0) refused_by_peer("the server refused " + name);
        s.credentials.prove_extra(name, "method", name);
        co_return s;
    };
}

std::string method_of(const pk_test::Side& side) {
    return side.credentials && side.credentials->extra().count("method") ? side.credentials->extra().at("method") : "";
}

// Reads one any_of-framed message (header + body) from `from`.
asio::awaitable<Bytes> read_frame(Stream& from) {
    return authchain::read_frame(from, wire::max_any_of_message, "frame");
}

asio::awaitable<void> pass_through(Stream& from, Stream& to) {
    std::array<std::uint8_t, 1024> buffer{};
    for (;;) {
        std::size_t n = co_await from.read_some(asio::buffer(buffer));
        if (n == 0) break;
        co_await write_all(to, asio::buffer(buffer.data(), n));
    }
    co_await to.shutdown_send();
}

// A man in the middle that rewrites the server's first offer to `offer`
// (nullopt: forwards it unchanged), then relays everything. Both of its
// channels have the same channel id, the worst case for the binding.
Result through_mitm(const Authenticator& server, const Authenticator& client,
                    std::optional<std::vector<std::string>> offer) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<Result> {
        auto client_pipe = make_pipe(ex, pipe_with(channel_a));
        auto server_pipe = make_pipe(ex, pipe_with(channel_a));
        Stream& client_end = client_pipe.first;
        Stream& mitm_client = client_pipe.second;
        Stream& mitm_server = server_pipe.first;
        Stream& server_end = server_pipe.second;
        auto mitm = [&]() -> asio::awaitable<void> {
            try {
                Bytes a1 = co_await read_frame(mitm_server);
                wire::Offer o = wire::decode_offer(a1);
                if (offer) o.methods = *offer;
                Bytes forged = wire::encode_offer(o);
                co_await write_all(mitm_client, asio::buffer(forged));
                co_await (pass_through(mitm_server, mitm_client) && pass_through(mitm_client, mitm_server));
            } catch (const std::exception&) {
            }
            mitm_client.close();
            mitm_server.close();
        };
        auto both = [&]() -> asio::awaitable<Result> {
            auto [s, c] = co_await (pk_test::side(server, std::move(server_end)) &&
                                    pk_test::side(client, std::move(client_end)));
            co_return Result{std::move(s), std::move(c)};
        };
        // awaitable<Result> && awaitable<void> yields the Result alone.
        Result result = co_await (both() && mitm());
        co_return result;
    });
}

}  // namespace

TEST_CASE("any_of: the client's preference picks among the methods offered") {
    auto server = any_of({{"alpha", server_method("alpha")}, {"beta", server_method("beta")}});
    auto client = client::any_of({{"gamma", client_method("gamma")}, {"beta", client_method("beta")},
                                  {"alpha", client_method("alpha")}});
    auto r = handshake(server, client);
    REQUIRE_MESSAGE(r.server.credentials, (r.server.error ? r.server.error->detail() : r.server.failure));
    REQUIRE(r.client.credentials);
    CHECK(method_of(r.server) == "beta");
    CHECK(method_of(r.client) == "beta");
    CHECK(r.server.credentials->log().back() == Proof{"any_of", "method beta"});
}

TEST_CASE("any_of: after a failed method the client tries its next one") {
    int server_failures = 0, client_failures = 0;
    auto server = any_of({{"alpha", server_method("alpha", false)}, {"beta", server_method("beta")}},
                         {.max_attempts = 3, .on_failed_attempt = [&](const Credentials& c, const AuthenticationError& e) {
                              ++server_failures;
                              CHECK(c.peer.known());
                              CHECK(e.reason() == DenyReason::denied);
                              CHECK(c.extra().empty());  // the failed method's facts are gone
                          }});
    auto client = client::any_of({{"alpha", client_method("alpha")}, {"beta", client_method("beta")}},
                                 {.max_attempts = 3, .on_failed_attempt = [&](const Credentials&, const AuthenticationError&) {
                                      ++client_failures;
                                  }});
    auto r = handshake(server, client);
    REQUIRE(r.server.credentials);
    CHECK(method_of(r.server) == "beta");
    CHECK(method_of(r.client) == "beta");
    CHECK(server_failures == 1);
    CHECK(client_failures == 1);
}

TEST_CASE("any_of: more failures than max_attempts are denied") {
    auto server = any_of({{"a", server_method("a", false)}, {"b", server_method("b", false)},
                          {"c", server_method("c")}},
                         {.max_attempts = 2});
    auto client = client::any_of({{"a", client_method("a")}, {"b", client_method("b")}, {"c", client_method("c")}});
    auto r = handshake(server, client);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("any_of: method b: b refused"));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK_FALSE(r.client.credentials);
}

TEST_CASE("any_of: when every method failed it is denied, whatever max_attempts") {
    auto server = any_of({{"a", server_method("a", false)}}, {.max_attempts = 3});
    auto r = handshake(server, client::any_of({{"a", client_method("a")}}));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("the server refused a"));
}

TEST_CASE("any_of: a client with no method in common is denied on both sides") {
    auto server = any_of({{"alpha", server_method("alpha")}});
    auto r = handshake(server, client::any_of({{"beta", client_method("beta")}}));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("none of the methods offered (alpha)"));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("no method left in common (server offers alpha; tried none)"));
}

TEST_CASE("any_of: a method that was not offered is denied") {
    auto server = any_of({{"alpha", server_method("alpha")}});
    Authenticator cheat = [](Session s) -> asio::awaitable<Session> {
        (void)co_await read_frame(s.stream);
        Bytes a2 = wire::encode_choice("root-shell");
        co_await write_all(s.stream, asio::buffer(a2));
        Bytes rest(1);
        co_await read_exact(s.stream, asio::buffer(rest), "anything");
        co_return s;
    };
    auto r = handshake(server, cheat);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("\"root-shell\", which was not offered"));
}

TEST_CASE("any_of: a failed method is not offered again") {
    auto server = any_of({{"alpha", server_method("alpha", false)}, {"beta", server_method("beta")}});
    Authenticator again = [](Session s) -> asio::awaitable<Session> {
        for (int i = 0; i < 2; ++i) {
            wire::Offer offer = wire::decode_offer(co_await read_frame(s.stream));
            if (i == 1) CHECK(offer.methods == std::vector<std::string>{"beta"});
            Bytes a2 = wire::encode_choice("alpha");
            co_await write_all(s.stream, asio::buffer(a2));
            if (i == 1) break;
            Bytes m1{0, 0, 0, 0};
            co_await write_all(s.stream, asio::buffer(m1));
            Bytes verdict(1);
            co_await read_exact(s.stream, asio::buffer(verdict), "M2");
            (void)co_await read_frame(s.stream);  // A3
            Bytes a4 = wire::encode_client_verdict(false);
            co_await write_all(s.stream, asio::buffer(a4));
        }
        Bytes rest(1);
        co_await read_exact(s.stream, asio::buffer(rest), "anything");
        co_return s;
    };
    auto r = handshake(server, again);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("which was not offered (beta)"));
}

TEST_CASE("any_of: the negotiation is bound to the channel: a tampered offer fails the method") {
    auto server = [] { return any_of({{"strong", server_method("strong")}, {"weak", server_method("weak")}}); };
    auto client = [] { return client::any_of({{"strong", client_method("strong")}, {"weak", client_method("weak")}}); };
    auto honest = through_mitm(server(), client(), std::nullopt);
    REQUIRE_MESSAGE(honest.server.credentials, (honest.server.error ? honest.server.error->detail() : honest.server.failure));
    CHECK(method_of(honest.server) == "strong");

    auto tampered = through_mitm(server(), client(), std::vector<std::string>{"weak"});  // a downgrade
    CHECK_FALSE(tampered.server.credentials);
    CHECK(tampered.server.reason() == DenyReason::denied);
    // weak fails on the forged transcript; so does strong, offered next
    // unchanged, since the transcript still holds the forged offer.
    CHECK(tampered.server.detail_has("any_of: method strong: strong refused (other channel)"));
    CHECK_FALSE(tampered.client.credentials);
}

TEST_CASE("any_of: each attempt sees its own channel id, none equal to the stream's") {
    std::vector<Bytes> seen;
    auto record = [&seen](bool accept) {
        return Authenticator([&seen, accept](Session s) -> asio::awaitable<Session> {
            seen.push_back(s.stream.protection().channel_id);
            Authenticator inner = server_method("m", accept);
            Session out = co_await inner(std::move(s));
            co_return out;
        });
    };
    auto server = any_of({{"a", record(false)}, {"b", record(true)}});
    auto r = handshake(server, client::any_of({{"a", client_method("a")}, {"b", client_method("b")}}));
    REQUIRE(r.server.credentials);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0] != seen[1]);
    CHECK(seen[0] != channel_a);
}

TEST_CASE("any_of: on a stream without a channel id the method sees none") {
    Bytes seen{1};
    Authenticator look = [&seen](Session s) -> asio::awaitable<Session> {
        seen = s.stream.protection().channel_id;
        co_return s;
    };
    auto r = handshake(any_of({{"look", look}}), client::any_of({{"look", pass()}}), pipe_with({}));
    REQUIRE(r.server.credentials);
    CHECK(seen.empty());
}

TEST_CASE("any_of: a failure inside a method's own protocol ends the connection") {
    Authenticator broken = [](Session) -> asio::awaitable<Session> {
        deny(DenyReason::protocol_error, "broken method");
        co_return Session{};
    };
    auto server = any_of({{"a", broken}, {"b", server_method("b")}});
    auto r = handshake(server, client::any_of({{"a", client_method("a")}, {"b", client_method("b")}}));
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("broken method"));
    CHECK_FALSE(r.client.credentials);
}

TEST_CASE("any_of: a client that refuses the server on its own ends the connection") {
    Authenticator distrust = [](Session s) -> asio::awaitable<Session> {
        deny(DenyReason::denied, "host key changed");
        co_return s;
    };
    auto server = any_of({{"a", server_method("a")}, {"b", server_method("b")}});
    auto r = handshake(server, client::any_of({{"a", distrust}, {"b", client_method("b")}}));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("host key changed"));
    CHECK_FALSE(r.server.credentials);
}

TEST_CASE("any_of: construction rules") {
    auto m = [](std::string name) { return Method{std::move(name), pass()}; };
    CHECK_THROWS_AS(any_of({}), std::invalid_argument);
    CHECK_THROWS_AS(any_of({m("a"), m("a")}), std::invalid_argument);
    CHECK_THROWS_AS(any_of({m("Upper")}), std::invalid_argument);
    CHECK_THROWS_AS(any_of({m("")}), std::invalid_argument);
    CHECK_THROWS_AS(any_of({m("a")}, {.max_attempts = 0}), std::invalid_argument);
    CHECK_THROWS_AS(client::any_of({Method{"a", nullptr}}), std::invalid_argument);
    CHECK_NOTHROW(any_of({m("public_key"), m("psk")}, {.max_attempts = 16}));
}

TEST_CASE("any_of messages: round trips and refusals") {
    using namespace authchain::detail;
    auto body = [](const Bytes& frame) { return Bytes(frame.begin() + 4, frame.end()); };
    Offer offer{2, {"public_key", "psk"}};
    CHECK(decode_offer(body(encode_offer(offer))) == offer);
    CHECK(decode_choice(body(encode_choice("psk"))) == "psk");
    CHECK(decode_choice(body(encode_choice(""))).empty());
    CHECK(decode_server_verdict(body(encode_server_verdict({true, 1}))) == Verdict{true, 1});
    CHECK_FALSE(decode_client_verdict(body(encode_client_verdict(false))));
    CHECK_THROWS_AS(decode_offer(Bytes{0x41, 1, 0}), AuthenticationError);                 // no method
    CHECK_THROWS_AS(decode_offer(Bytes{0x41, 1, 2, 1, 'a', 1, 'a'}), AuthenticationError);  // twice
    CHECK_THROWS_AS(decode_offer(Bytes{0x41, 1, 1, 5, 'a'}), AuthenticationError);          // truncated
    CHECK_THROWS_AS(decode_choice(Bytes{0x42, 1, 'A'}), AuthenticationError);               // invalid name
    CHECK_THROWS_AS(decode_server_verdict(Bytes{0x43, 7, 0}), AuthenticationError);         // unknown verdict
    CHECK_THROWS_AS(decode_client_verdict(Bytes{0x44, 0, 0}), AuthenticationError);         // trailing
    CHECK_THROWS_AS(frame_length({0, 0, 4, 1}, max_any_of_message, "frame"), AuthenticationError);
}
