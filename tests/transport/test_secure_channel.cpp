// secure_channel over the in-memory pipe: the good paths, negotiation,
// close, deny, rekey, options, and the server driver on top.
#include <doctest/doctest.h>

#include <authchain/compose/combinators.hpp>
#include "tests/transport/channel_harness.hpp"
#include <authchain/transport/detail/secure_channel/copy_forward.hpp>

using namespace authchain;
using namespace authchain::test::channel_harness;

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

TEST_CASE("secure_channel: a read returns every buffered record that fits, in order, and splits the one that does not") {
    for (std::size_t size : {64, 3}) {
        CAPTURE(size);
        test::run([size](Executor ex) -> awaitable<void> {
            auto [c, s] = make_pipe(ex);
            auto p = co_await handshake(std::move(c), std::move(s));
            for (const char* piece : {"ab", "cd", "ef"}) co_await write_all(p.client.stream, asio::buffer(piece, 2));
            co_await p.client.stream.shutdown_send();
            co_await p.server.stream.wait_readable();  // the three records and the close record are in the pipe
            std::vector<std::string> reads;
            for (int i = 0; i < 10; ++i) {
                std::string buf(size, '\0');
                const std::size_t n = co_await p.server.stream.read_some(asio::buffer(buf));
                if (n == 0) break;
                reads.push_back(buf.substr(0, n));
            }
            // One inner read brought every record: 64 bytes take them all at
            // once; 3 bytes take "ab" and the first byte of "cd", then the rest.
            if (size == 64)
                CHECK(reads == std::vector<std::string>{"abcdef"});
            else
                CHECK(reads == std::vector<std::string>{"abc", "def"});
        });
    }
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

TEST_CASE("secure_channel: copy_forward copies and compacts for any length and overlap") {
    for (std::size_t n : {0, 1, 63, 64, 65, 200, 4097}) {
        for (std::size_t shift : {0, 1, 7, 64, 100}) {
            CAPTURE(n);
            CAPTURE(shift);
            Bytes data = pattern(n + shift, static_cast<std::uint32_t>(n));
            const Bytes expected(data.begin() + static_cast<std::ptrdiff_t>(shift), data.end());
            channel::copy_forward(data.data(), data.data() + shift, n);  // compaction: dst <= src
            CHECK(Bytes(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n)) == expected);
            Bytes out(n + 3, 0);
            channel::copy_forward(out.data() + 3, expected.data(), n);
            CHECK(Bytes(out.begin() + 3, out.end()) == expected);
        }
    }
}
