// secure_channel against a man in the middle and broken peers: every way
// the negotiation or the records can be tampered with is refused.
#include <doctest/doctest.h>

#include <authchain/compose/combinators.hpp>
#include "tests/transport/channel_harness.hpp"

using namespace authchain;
using namespace authchain::test::channel_harness;

TEST_CASE("secure_channel: a man in the middle who rewrites the negotiation is detected") {
    test::run([](Executor ex) -> awaitable<void> {
        SecureChannelOptions co, so;
        co.suites = {"25519_AESGCM_SHA256", "25519_ChaChaPoly_BLAKE2b"};
        so.suites = {"25519_AESGCM_SHA256", "25519_ChaChaPoly_BLAKE2b"};
        Edit to_server = forward(), to_client = forward();
        SUBCASE("strong suite blanked out of the offer: both sides retry with the weak one") {
            // Without the offer in the prologue this downgrade would succeed.
            to_server = [](std::size_t i, Bytes u) {
                if (i == 0) u[6] = 0x2f;  // an id the server does not know
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("offer cut down to the weaker suite") {
            to_server = [](std::size_t i, Bytes u) {
                if (i == 0) u = Bytes{'A', 'C', 'S', 'C', 1, 1, 0x13};
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("offer reordered to skip the server's choice") {
            // Honest run: the server picks 0x13 and the client restarts.
            // Reordered, the server answers at once under the client's second suite.
            so.suites = {"25519_ChaChaPoly_BLAKE2b", "25519_AESGCM_SHA256"};
            to_server = [](std::size_t i, Bytes u) {
                if (i == 0) std::swap(u[6], u[7]);
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("choice rewritten") {
            to_client = [](std::size_t i, Bytes u) {
                if (i == 0) u[5] = 0x13;
                return std::vector<Bytes>{std::move(u)};
            };
        }
        auto m = make_mitm(ex, to_server, to_client);
        auto server = spawn(ex, secure_channel(so)(start_session(std::move(m.server))));
        auto client = spawn(ex, client::secure_channel(co)(start_session(std::move(m.client))));
        co_await wait(client);
        co_await wait(server);
        // The client never gets a channel, and the server never gets data.
        REQUIRE(client->error);
        CHECK(error_of(*client)->reason() == DenyReason::protocol_error);
        if (!server->error) {
            auto e = co_await read_error(server->value.stream);
            REQUIRE(e);
            CHECK(e->reason() == DenyReason::protocol_error);
        } else {
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
        }
    });
}

TEST_CASE("secure_channel: bad records are refused before any of their bytes is returned") {
    test::run([](Executor ex) -> awaitable<void> {
        Edit edit = forward();
        int intact_records = 0;  // data records that arrive before the bad one
        SUBCASE("tampered byte") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record) u[10] ^= 0x01;
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("tampered length prefix") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record) u[1] ^= 0x01;
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("replayed record") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record) return std::vector<Bytes>{u, u};
                return std::vector<Bytes>{std::move(u)};
            };
            intact_records = 1;
        }
        SUBCASE("reordered records") {
            auto held = std::make_shared<Bytes>();
            edit = [held](std::size_t i, Bytes u) {
                if (i == first_record) {
                    *held = std::move(u);
                    return std::vector<Bytes>{};
                }
                if (i == first_record + 1) return std::vector<Bytes>{std::move(u), *held};
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("dropped record") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record) return std::vector<Bytes>{};
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("oversized record: 65535 announced, garbage follows") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record) {
                    Bytes big(2 + 65535, 0xAB);
                    big[0] = big[1] = 0xff;
                    return std::vector<Bytes>{big};
                }
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("length below one tag") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record) return std::vector<Bytes>{Bytes{0, 3, 1, 2, 3}};
                return std::vector<Bytes>{std::move(u)};
            };
        }
        SUBCASE("the close record dropped: a raw end of stream is a truncation") {
            edit = [](std::size_t i, Bytes u) {
                if (i == first_record + 2) return std::vector<Bytes>{};
                return std::vector<Bytes>{std::move(u)};
            };
            intact_records = 2;
        }
        auto m = make_mitm(ex, edit, forward());
        auto p = co_await handshake(std::move(m.client), std::move(m.server));
        const Bytes first = pattern(1000, 7), second = pattern(1000, 8);
        co_await write_all(p.client.stream, asio::buffer(first));
        co_await write_all(p.client.stream, asio::buffer(second));
        co_await p.client.stream.shutdown_send();

        // Only the records before the bad one are delivered; none of its bytes.
        Bytes expected;
        if (intact_records >= 1) expected = first;
        if (intact_records >= 2) expected.insert(expected.end(), second.begin(), second.end());
        Bytes received;
        auto e = co_await read_error(p.server.stream, &received);
        CHECK(received == expected);
        REQUIRE(e);
        CHECK(e->reason() == DenyReason::protocol_error);
        // The stream stays failed.
        auto again = co_await read_error(p.server.stream);
        REQUIRE(again);
        CHECK(again->reason() == DenyReason::protocol_error);
        CHECK_THROWS_AS(co_await write_all(p.server.stream, asio::buffer(first)), AuthenticationError);
    });
}

TEST_CASE("secure_channel: a stream truncated mid-record") {
    test::run([](Executor ex) -> awaitable<void> {
        PipeOptions o;
        // C1 is 6 + 6 offered suites + 2 + 32 bytes; cut 100 bytes into the first record.
        o.server.faults.truncate_after = 46 + 100;
        auto [c, s] = make_pipe(ex, o);
        auto p = co_await handshake(std::move(c), std::move(s));
        const Bytes data7 = pattern(5000, 9);
        co_await write_all(p.client.stream, asio::buffer(data7));
        auto e = co_await read_error(p.server.stream);
        REQUIRE(e);
        CHECK(e->reason() == DenyReason::protocol_error);
    });
}

TEST_CASE("secure_channel: peers that are not authchain secure channels") {
    test::run([](Executor ex) -> awaitable<void> {
        auto [c, s] = make_pipe(ex);
        SUBCASE("server reads an HTTP request") {
            auto server = spawn(ex, secure_channel()(start_session(std::move(s))));
            const auto bytes = std::string("GET / HTTP/1.1\r\n\r\n");
            co_await write_all(c, asio::buffer(bytes));
            co_await wait(server);
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
        }
        SUBCASE("server reads a wrong version") {
            auto server = spawn(ex, secure_channel()(start_session(std::move(s))));
            const auto bytes = Bytes{'A', 'C', 'S', 'C', 2, 1, 0x21};
            co_await write_all(c, asio::buffer(bytes));
            co_await wait(server);
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
        }
        SUBCASE("server reads an offer of no suites") {
            auto server = spawn(ex, secure_channel()(start_session(std::move(s))));
            const auto bytes = Bytes{'A', 'C', 'S', 'C', 1, 0};
            co_await write_all(c, asio::buffer(bytes));
            co_await wait(server);
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
        }
        SUBCASE("server reads an end of stream mid-handshake") {
            auto server = spawn(ex, secure_channel()(start_session(std::move(s))));
            const auto bytes = Bytes{'A', 'C', 'S', 'C', 1, 1, 0x21, 0};
            co_await write_all(c, asio::buffer(bytes));
            co_await c.shutdown_send();
            co_await wait(server);
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
        }
        SUBCASE("server reads a message 1 with a payload") {
            auto server = spawn(ex, secure_channel()(start_session(std::move(s))));
            Bytes c1{'A', 'C', 'S', 'C', 1, 1, 0x21, 0, 33};
            c1.resize(c1.size() + 33, 9);
            co_await write_all(c, asio::buffer(c1));
            co_await wait(server);
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
        }
        SUBCASE("client reads garbage") {
            auto client = spawn(ex, client::secure_channel()(start_session(std::move(c))));
            const auto bytes = std::string("SSH-2.0-OpenSSH_9.2\r\n");
            co_await write_all(s, asio::buffer(bytes));
            co_await wait(client);
            CHECK(error_of(*client)->reason() == DenyReason::protocol_error);
        }
        SUBCASE("client is told a suite it did not offer") {
            auto client = spawn(ex, client::secure_channel(only("25519_AESGCM_SHA256"))(start_session(std::move(c))));
            const auto bytes = Bytes{'A', 'C', 'S', 'C', 1, 0x13};
            co_await write_all(s, asio::buffer(bytes));
            co_await wait(client);
            CHECK(error_of(*client)->reason() == DenyReason::protocol_error);
        }
    });
}
