// secure_channel over the in-memory pipe: good paths, negotiation, and every
// way a man in the middle (a test relay between two pipes) can break it.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <memory>

#include "compose/combinators.hpp"
#include "compose/server.hpp"
#include "tests/support/run.hpp"
#include "transport/pipe.hpp"
#include "transport/secure_channel.hpp"
#include "transport/secure_channel/read_buffer.hpp"

using namespace authchain;
using asio::awaitable;
using Executor = asio::any_io_executor;

namespace {

// ---- running two sides at once -------------------------------------------

template <class T>
struct Outcome {
    bool done = false;
    T value{};
    std::exception_ptr error;
};

template <class T>
std::shared_ptr<Outcome<T>> spawn(Executor ex, awaitable<T> work) {
    auto out = std::make_shared<Outcome<T>>();
    asio::co_spawn(ex, std::move(work), [out](std::exception_ptr e, T v) {
        out->done = true;
        out->error = e;
        out->value = std::move(v);
    });
    return out;
}

// Lets the other coroutines run until `out` is done (bounded in steps).
template <class T>
awaitable<void> wait(const std::shared_ptr<Outcome<T>>& out) {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 10'000'000 && !out->done; ++i) co_await asio::post(ex, asio::use_awaitable);
    REQUIRE(out->done);
}

template <class T>
awaitable<T> result(const std::shared_ptr<Outcome<T>>& out) {
    co_await wait(out);
    if (out->error) std::rethrow_exception(out->error);
    co_return std::move(out->value);
}

// The AuthenticationError a finished outcome holds (fails the test otherwise).
template <class T>
std::optional<AuthenticationError> error_of(const Outcome<T>& out) {
    if (!out.error) return std::nullopt;
    try {
        std::rethrow_exception(out.error);
    } catch (const AuthenticationError& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("unexpected exception: " << e.what());
    }
    return std::nullopt;
}

struct Sessions {
    Session client;
    Session server;
};

const SecureChannelOptions defaults{};

// Runs both handshakes; both must succeed. (The options are named objects of
// the caller: GCC 12 mishandles class temporaries and default arguments of
// coroutine calls.)
awaitable<Sessions> handshake(Stream c, Stream s, const SecureChannelOptions& client_options = defaults,
                              const SecureChannelOptions& server_options = defaults) {
    auto ex = co_await asio::this_coro::executor;
    auto server = spawn(ex, secure_channel(server_options)(start_session(std::move(s))));
    const Authenticator client_chain = client::secure_channel(client_options);
    Session client = co_await client_chain(start_session(std::move(c)));
    Session srv = co_await result(server);
    co_return Sessions{std::move(client), std::move(srv)};
}

// ---- data -----------------------------------------------------------------

Bytes pattern(std::size_t n, std::uint32_t seed) {
    Bytes out(n);
    for (auto& b : out) {
        seed = seed * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(seed >> 24);
    }
    return out;
}

awaitable<Bytes> read_all(Stream& s) {
    Bytes out;
    std::array<std::uint8_t, 7000> buf;  // not a record multiple
    for (;;) {
        std::size_t n = co_await s.read_some(asio::buffer(buf));
        if (n == 0) co_return out;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
}

awaitable<int> write_and_close(Stream& s, Bytes data) {
    co_await write_all(s, asio::buffer(data));
    co_await s.shutdown_send();
    co_return 0;
}

// Sends `a` client->server and `b` server->client at the same time and checks both arrive.
awaitable<void> exchange(Sessions& p, const Bytes& a, const Bytes& b) {
    auto ex = co_await asio::this_coro::executor;
    auto w1 = spawn(ex, write_and_close(p.client.stream, a));
    auto w2 = spawn(ex, write_and_close(p.server.stream, b));
    auto r1 = spawn(ex, read_all(p.server.stream));
    Bytes at_client = co_await read_all(p.client.stream);
    CHECK(co_await result(r1) == a);
    CHECK(at_client == b);
    co_await result(w1);
    co_await result(w2);
}

// ---- a man in the middle --------------------------------------------------

// The bytes of one direction cut into units: the negotiation header (offer
// or choice), then every 2-byte-length frame (handshake messages, records).
// An Edit returns what to forward in place of unit `index`.
using Edit = std::function<std::vector<Bytes>(std::size_t index, Bytes unit)>;

Edit forward() {
    return [](std::size_t, Bytes unit) { return std::vector<Bytes>{std::move(unit)}; };
}

std::size_t unit_size(ByteView view, std::size_t index, bool to_server) {
    if (index == 0) {
        if (!to_server) return view.size() >= 6 ? 6 : 0;
        return view.size() >= 6 && view.size() >= 6u + view[5] ? 6u + view[5] : 0;
    }
    if (view.size() < 2) return 0;
    std::size_t size = 2 + (std::size_t{view[0]} << 8 | view[1]);
    return view.size() >= size ? size : 0;
}

awaitable<int> relay(std::shared_ptr<Stream> from, std::shared_ptr<Stream> to, Edit edit, bool to_server) {
    channel::ReadBuffer input(4096, 1 << 20);
    try {
        for (std::size_t index = 0;;) {
            std::size_t size = unit_size(input.view(), index, to_server);
            if (size == 0) {
                if (!co_await input.fill(*from)) break;
                continue;
            }
            Bytes unit(input.view().begin(), input.view().begin() + static_cast<std::ptrdiff_t>(size));
            input.consume(size);
            for (auto& u : edit(index++, std::move(unit))) co_await write_all(*to, asio::buffer(u));
        }
        co_await to->shutdown_send();
    } catch (const std::exception&) {
        to->close();
        from->close();
    }
    co_return 0;
}

struct Mitm {
    Stream client;  // give to the client
    Stream server;  // give to the server
};

Mitm make_mitm(Executor ex, Edit to_server, Edit to_client, PipeOptions left = {}, PipeOptions right = {}) {
    auto [client, mitm_left] = make_pipe(ex, left);
    auto [mitm_right, server] = make_pipe(ex, right);
    auto l = std::make_shared<Stream>(std::move(mitm_left));
    auto r = std::make_shared<Stream>(std::move(mitm_right));
    spawn(ex, relay(l, r, std::move(to_server), true));
    spawn(ex, relay(r, l, std::move(to_client), false));
    return {std::move(client), std::move(server)};
}

// Record indexes in each direction: 0 negotiation header, 1 handshake
// message, 2.. records (default suites, no retry).
constexpr std::size_t first_record = 2;

// Reads until an error or the end (bounded); `received` gets what was read first.
awaitable<std::optional<AuthenticationError>> read_error(Stream& s, Bytes* received = nullptr) {
    try {
        std::array<std::uint8_t, 1024> buf;
        for (int i = 0; i < 1000; ++i) {
            std::size_t n = co_await s.read_some(asio::buffer(buf));
            if (n == 0) break;
            if (received) received->insert(received->end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        }
    } catch (const AuthenticationError& e) {
        co_return e;
    }
    co_return std::nullopt;
}

awaitable<int> run_server(Server& server) {
    co_await server.run();
    co_return 0;
}

SecureChannelOptions only(std::string suite) {
    SecureChannelOptions o;
    o.suites = {std::move(suite)};
    return o;
}

}  // namespace

TEST_CASE("secure_channel: every suite carries 1 MiB each way and reports its protection") {
    for (const auto& suite : secure_channel_suites()) {
        CAPTURE(suite);
        test::run([&](Executor ex) -> awaitable<void> {
            auto [c, s] = make_pipe(ex);
            const auto options = only(suite);
            auto p = co_await handshake(std::move(c), std::move(s), options);
            const Protection pc = p.client.stream.protection(), ps = p.server.stream.protection();
            CHECK(pc.confidential);
            CHECK_FALSE(pc.peer_authenticated);
            CHECK(pc.transport == "Noise_NN_" + suite);
            CHECK(ps.transport == pc.transport);
            CHECK(pc.channel_id.size() >= 32);
            CHECK(pc.channel_id == ps.channel_id);
            CHECK(p.client.credentials.channel_id == pc.channel_id);
            CHECK(p.server.credentials.channel_id == ps.channel_id);
            CHECK(p.server.credentials.layers() == std::vector<std::string>{"transport", "secure_channel"});
            const Bytes data1 = pattern(1 << 20, 1);
            const Bytes data2 = pattern(1 << 20, 2);
            co_await exchange(p, data1, data2);
        });
    }
}

TEST_CASE("secure_channel: one byte at a time in both directions") {
    test::run([](Executor ex) -> awaitable<void> {
        PipeOptions o;
        o.client.faults.one_byte_at_a_time = true;
        o.server.faults.one_byte_at_a_time = true;
        auto [c, s] = make_pipe(ex, o);
        auto p = co_await handshake(std::move(c), std::move(s));
        const Bytes data3 = pattern(70'000, 3);
        const Bytes data4 = pattern(66'000, 4);
        co_await exchange(p, data3, data4);
    });
}

TEST_CASE("secure_channel: channel ids differ between connections") {
    test::run([](Executor ex) -> awaitable<void> {
        auto [c1, s1] = make_pipe(ex);
        auto [c2, s2] = make_pipe(ex);
        auto a = co_await handshake(std::move(c1), std::move(s1));
        auto b = co_await handshake(std::move(c2), std::move(s2));
        CHECK(a.client.stream.protection().channel_id != b.client.stream.protection().channel_id);
        CHECK(a.server.stream.protection().channel_id != b.server.stream.protection().channel_id);
    });
}

TEST_CASE("secure_channel: negotiation") {
    test::run([](Executor ex) -> awaitable<void> {
        SUBCASE("the server picks by its own preference: the client restarts with it") {
            SecureChannelOptions co, so;
            co.suites = {"25519_ChaChaPoly_SHA256", "25519_AESGCM_BLAKE2b"};
            so.suites = {"25519_AESGCM_BLAKE2b", "25519_ChaChaPoly_SHA256"};
            auto client_units = std::make_shared<std::size_t>(0);
            auto count = [client_units](std::size_t i, Bytes u) {
                *client_units = i + 1;
                return std::vector<Bytes>{std::move(u)};
            };
            auto m = make_mitm(ex, count, forward());
            auto p = co_await handshake(std::move(m.client), std::move(m.server), co, so);
            CHECK(p.client.stream.protection().transport == "Noise_NN_25519_AESGCM_BLAKE2b");
            CHECK(p.server.stream.protection().transport == "Noise_NN_25519_AESGCM_BLAKE2b");
            CHECK(*client_units == 3);  // offer, message 1, C2
            const Bytes data5 = pattern(100'000, 5);
            const Bytes data6 = pattern(10, 6);
            co_await exchange(p, data5, data6);
        }
        SUBCASE("the client's first choice is taken when the server offers it too") {
            SecureChannelOptions co;
            co.suites = {"25519_ChaChaPoly_SHA512", "25519_AESGCM_SHA256"};
            auto [c, s] = make_pipe(ex);
            auto p = co_await handshake(std::move(c), std::move(s), co);
            CHECK(p.server.stream.protection().transport == "Noise_NN_25519_AESGCM_SHA256");
        }
        SUBCASE("no common suite: both sides refuse") {
            auto [c, s] = make_pipe(ex);
            auto server = spawn(ex, secure_channel(only("25519_AESGCM_SHA256"))(start_session(std::move(s))));
            auto client = spawn(ex, client::secure_channel(only("25519_ChaChaPoly_BLAKE2b"))(start_session(std::move(c))));
            co_await wait(server);
            co_await wait(client);
            CHECK(error_of(*server)->reason() == DenyReason::protocol_error);
            CHECK(error_of(*client)->reason() == DenyReason::protocol_error);
        }
    });
}

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

TEST_CASE("secure_channel: close and deny records") {
    test::run([](Executor ex) -> awaitable<void> {
        auto [c, s] = make_pipe(ex);
        auto p = co_await handshake(std::move(c), std::move(s));
        SUBCASE("close: read returns 0 only after it, and keeps returning 0") {
            const Bytes data8 = pattern(10, 1);
            co_await write_all(p.client.stream, asio::buffer(data8));
            co_await p.client.stream.shutdown_send();
            const Bytes data9 = pattern(10, 1);
            CHECK(co_await read_all(p.server.stream) == data9);
            std::array<std::uint8_t, 8> buf;
            CHECK(co_await p.server.stream.read_some(asio::buffer(buf)) == 0);
            CHECK_THROWS_AS(co_await write_all(p.client.stream, asio::buffer(buf)), std::system_error);
            // The other direction still works.
            const Bytes data10 = pattern(10, 2);
            co_await write_all(p.server.stream, asio::buffer(data10));
            co_await p.server.stream.shutdown_send();
            const Bytes data11 = pattern(10, 2);
            CHECK(co_await read_all(p.client.stream) == data11);
        }
        SUBCASE("deny: the peer's read throws the reason") {
            co_await p.server.stream.send_deny(DenyReason::busy);
            auto e = co_await read_error(p.client.stream);
            REQUIRE(e);
            CHECK(e->reason() == DenyReason::busy);
            CHECK(e->detail() == "refused by peer");
            auto again = co_await read_error(p.client.stream);
            REQUIRE(again);
            CHECK(again->reason() == DenyReason::busy);
        }
        SUBCASE("data before the deny still arrives") {
            const Bytes data12 = pattern(300, 3);
            co_await write_all(p.server.stream, asio::buffer(data12));
            co_await p.server.stream.send_deny(DenyReason::denied);
            std::array<std::uint8_t, 300> buf;
            co_await read_exact(p.client.stream, asio::buffer(buf));
            CHECK(Bytes(buf.begin(), buf.end()) == pattern(300, 3));
            auto e = co_await read_error(p.client.stream);
            REQUIRE(e);
            CHECK(e->reason() == DenyReason::denied);
        }
    });
}

TEST_CASE("secure_channel: rekey after a tiny limit, in both directions") {
    test::run([](Executor ex) -> awaitable<void> {
        SecureChannelOptions o;
        auto records_to_server = std::make_shared<std::size_t>(0);
        auto count = [records_to_server](std::size_t i, Bytes u) {
            if (i >= first_record) ++*records_to_server;
            return std::vector<Bytes>{std::move(u)};
        };
        std::size_t expected_data_records = 0;
        SUBCASE("by records") {
            o.rekey_after_records = 1;
            expected_data_records = 5;  // 4 full records in one write, then 37'928 bytes
        }
        SUBCASE("by bytes") {
            o.rekey_after_bytes = 1000;
            expected_data_records = 5;
        }
        auto m = make_mitm(ex, count, forward());
        auto p = co_await handshake(std::move(m.client), std::move(m.server), o, o);
        const Bytes data13 = pattern(300'000, 10);
        const Bytes data14 = pattern(200'000, 11);
        co_await exchange(p, data13, data14);
        // Each data record is followed by a rekey record; then the close record.
        CHECK(*records_to_server == 2 * expected_data_records + 1);
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

TEST_CASE("secure_channel: options are checked") {
    SecureChannelOptions o;
    o.suites = {"25519_AESGCM_SHA256", "25519_Foo_SHA256"};
    try {
        secure_channel(o);
        FAIL("no exception");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("25519_Foo_SHA256") != std::string::npos);
    }
    CHECK_THROWS_AS(client::secure_channel(only("Noise_NN_25519_AESGCM_SHA256")), std::invalid_argument);
    o.suites = {};
    CHECK_THROWS_AS(secure_channel(o), std::invalid_argument);
    o.suites = std::vector<std::string>(17, "25519_AESGCM_SHA256");
    CHECK_THROWS_AS(secure_channel(o), std::invalid_argument);
    SecureChannelOptions z;
    z.rekey_after_records = 0;
    CHECK_THROWS_AS(client::secure_channel(z), std::invalid_argument);
}

TEST_CASE("secure_channel: under the server driver, a later layer's deny reaches the client") {
    test::run([](Executor ex) -> awaitable<void> {
        PipeListener listener(ex);
        bool allow = false;
        SUBCASE("refused by a later layer") { allow = false; }
        SUBCASE("accepted") { allow = true; }
        Server server(listener, secure_channel() | check([allow](const Credentials&) { return allow; }, "policy"),
                      [](Session s) -> awaitable<void> {
                          // Echo one message, then close.
                          std::array<std::uint8_t, 64> buf;
                          std::size_t n = co_await s.stream.read_some(asio::buffer(buf));
                          co_await write_all(s.stream, asio::buffer(buf.data(), n));
                          co_await s.stream.shutdown_send();
                      });
        auto running = spawn(ex, run_server(server));
        const Authenticator chain = client::secure_channel();
        const PipeOptions pipe_options;  // not a default argument: GCC 12 coroutine bug
        Session client = co_await chain(start_session(listener.connect(pipe_options)));
        if (allow) {
            const Bytes hello = pattern(20, 12);
            co_await write_all(client.stream, asio::buffer(hello));
            CHECK(co_await read_all(client.stream) == hello);
        } else {
            auto e = co_await read_error(client.stream);
            REQUIRE(e);
            CHECK(e->reason() == DenyReason::denied);
            CHECK(e->detail() == "refused by peer");
        }
        server.stop();
        co_await wait(running);
    });
}
