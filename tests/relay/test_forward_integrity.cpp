// forward: a tampered or truncated secure channel is not a clean end. The
// backend sees the connection reset (RST), never the end of stream a
// complete request ends with.
//
//   client --secure channel-- [pipe, man in the middle, pipe] -- [gate's
//   secure_channel, forward] --loopback TCP-- backend
#include <doctest/doctest.h>

#include <asio/error.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <vector>

#include <authchain/relay/forward.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using namespace asio::experimental::awaitable_operators;

namespace {

// What the man in the middle does to the client's bytes once armed.
enum class Cut { none, tamper, truncate };

struct Middle {
    Cut cut = Cut::none;
    bool armed = false;
};

// Client -> gate: armed, flips the last byte of the next chunk (a record's
// tag), or ends the stream there (no close record).
asio::awaitable<void> relay_up(Stream& from, Stream& to, Middle& m) {
    std::vector<char> buf(64 * 1024);
    try {
        for (;;) {
            std::size_t n = co_await from.read_some(asio::buffer(buf));
            if (n == 0 || (m.armed && m.cut == Cut::truncate)) break;
            if (m.armed && m.cut == Cut::tamper) {
                buf[n - 1] ^= 1;
                m.armed = false;
            }
            co_await write_all(to, asio::buffer(buf.data(), n));
        }
        co_await to.shutdown_send();
    } catch (const std::exception&) {
        to.close();
    }
}

// Gate -> client: as is.
asio::awaitable<void> relay_down(Stream& from, Stream& to) {
    std::vector<char> buf(64 * 1024);
    try {
        for (;;) {
            std::size_t n = co_await from.read_some(asio::buffer(buf));
            if (n == 0) break;
            co_await write_all(to, asio::buffer(buf.data(), n));
        }
        co_await to.shutdown_send();
    } catch (const std::exception&) {
        to.close();
    }
}

struct Outcome {
    ForwardSummary summary;
    std::string backend_got;
    bool backend_clean_end = false;  // read returned 0 (FIN)
    std::error_code backend_error;   // else: why its read failed
};

// The client sends "first\n"; once the backend has it, the middle is armed
// and the client sends "second\n" and half-closes.
Outcome run_session(Cut cut) {
    return test::run([cut](asio::any_io_executor ex) -> asio::awaitable<Outcome> {
        TcpListener backend(ex);
        auto client_pipe = make_pipe(ex), gate_pipe = make_pipe(ex);
        Stream &client_end = client_pipe.first, &middle_in = client_pipe.second;
        Stream &middle_out = gate_pipe.first, &gate_end = gate_pipe.second;
        Middle middle{cut, false};
        Outcome out;

        // The handshake through the middle (not armed yet).
        Authenticator gate_chain = secure_channel();
        Authenticator client_chain = client::secure_channel();
        Session gate_session, client_session;
        auto gate_handshake = [&]() -> asio::awaitable<void> {
            Session s = start_session(std::move(gate_end));
            gate_session = co_await gate_chain(std::move(s));
            co_await gate_session.stream.send_accept();  // as the Server driver does
        };
        auto client_handshake = [&]() -> asio::awaitable<void> {
            client_session = co_await authenticate(std::move(client_end), client_chain);
        };
        auto relays = [&]() -> asio::awaitable<void> {
            co_await (relay_up(middle_in, middle_out, middle) && relay_down(middle_out, middle_in));
        };
        auto backend_side = [&]() -> asio::awaitable<void> {
            Stream s = co_await backend.accept();
            char buf[4096];
            try {
                for (;;) {
                    std::size_t n = co_await s.read_some(asio::buffer(buf));
                    if (n == 0) {
                        out.backend_clean_end = true;
                        break;
                    }
                    out.backend_got.append(buf, n);
                }
                co_await write_all(s, asio::buffer(std::string("bye")));
                co_await s.shutdown_send();
            } catch (const std::system_error& e) {
                out.backend_error = e.code();
            }
        };
        auto client_side = [&]() -> asio::awaitable<void> {
            Stream& c = client_session.stream;
            co_await write_all(c, asio::buffer(std::string("first\n")));
            for (int i = 0; i < 500 && out.backend_got.size() < 6; ++i) co_await test::sleep_for(std::chrono::milliseconds(5));
            middle.armed = true;
            co_await write_all(c, asio::buffer(std::string("second\n")));
            co_await test::sleep_for(std::chrono::milliseconds(50));  // its own chunk: the cut hits this record
            co_await c.shutdown_send();
            char buf[64];
            try {
                while (co_await c.read_some(asio::buffer(buf)) > 0) {
                }
            } catch (const std::exception&) {
            }
            c.close();
        };
        auto gate_side = [&]() -> asio::awaitable<void> {
            co_await (gate_handshake() && client_handshake());
            Endpoint target{"127.0.0.1", backend.local_endpoint().port()};
            ForwardOptions options;
            auto forwarding = [&]() -> asio::awaitable<void> {
                out.summary = co_await forward(gate_session, target, options);
            };
            co_await (forwarding() && backend_side() && client_side());
            middle_in.close();
            middle_out.close();
        };
        co_await (relays() && gate_side());
        co_return out;
    });
}

}  // namespace

TEST_CASE("forward: a clean end of the secure channel reaches the backend as a clean end (FIN)") {
    Outcome o = run_session(Cut::none);
    CHECK(o.summary.outcome == ForwardOutcome::forwarded);
    CHECK(o.backend_got == "first\nsecond\n");
    CHECK(o.backend_clean_end);
    CHECK_FALSE(o.backend_error);
    CHECK(o.summary.integrity_failure == ForwardSide::none);
}

TEST_CASE("forward: a tampered record from the client resets the backend connection (RST, not FIN)") {
    Outcome o = run_session(Cut::tamper);
    CHECK(o.backend_got == "first\n");  // the forged record never reaches it
    CHECK_FALSE(o.backend_clean_end);
    CHECK(o.backend_error == asio::error::connection_reset);
    CHECK(o.summary.outcome == ForwardOutcome::error);
    CHECK(o.summary.integrity_failure == ForwardSide::client);
    CHECK(o.summary.closed_first == ForwardSide::client);
}

TEST_CASE("forward: a secure channel cut without its close record resets the backend connection") {
    Outcome o = run_session(Cut::truncate);
    CHECK(o.backend_got == "first\n");
    CHECK_FALSE(o.backend_clean_end);
    CHECK(o.backend_error == asio::error::connection_reset);
    CHECK(o.summary.outcome == ForwardOutcome::error);
    CHECK(o.summary.integrity_failure == ForwardSide::client);
}
