// Attack clients: raw TCP connections from a chosen loopback source, and
// clients that run the real secure channel and then send hand-made
// public_key messages (auth/public_key/detail/messages.hpp), as the unit
// tests in tests/auth forge them.
#pragma once

#include <array>
#include <asio/connect.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <mutex>
#include <set>
#include <stdexcept>

#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/compose/detail/as_tuple_awaitable.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/compose/session.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>

namespace attacks {

using namespace authchain;
using asio::awaitable;
using asio::ip::tcp;
using namespace asio::experimental::awaitable_operators;

// Whether `local` was never handed out before in this process (and marks
// it handed out). Attack connections are told apart in the gate's audit log
// by their source address and port, so no two may share both: with
// SO_REUSEADDR the kernel readily gives a port of a closed connection
// again (seen: a re-attempt from ::1 got the port of a phase-1 attempt and
// the test read the old audit line).
inline bool first_use(const tcp::endpoint& local) {
    static std::mutex mutex;
    static std::set<tcp::endpoint> used;
    std::lock_guard lock(mutex);
    return used.insert(local).second;
}

// A socket bound to `source` (at a port no earlier attack connection of
// this process had) and connected to the gate's loopback address of the
// same family (127.0.0.1 or ::1).
inline awaitable<tcp::socket> connect_from(std::string source, std::uint16_t port) {
    auto ex = co_await asio::this_coro::executor;
    auto from = asio::ip::make_address(source);
    tcp::socket s(ex);
    for (int attempt = 0;; ++attempt) {
        s.open(from.is_v4() ? tcp::v4() : tcp::v6());
        s.set_option(asio::socket_base::reuse_address(true));
        s.bind({from, 0});
        if (first_use(s.local_endpoint())) break;
        if (attempt == 1000) throw std::runtime_error("connect_from: no unused local port for " + source);
        s.close();
    }
    auto to = from.is_v4() ? asio::ip::make_address("127.0.0.1") : asio::ip::make_address("::1");
    co_await s.async_connect({to, port}, asio::use_awaitable);
    co_return s;
}

// How the gate ended a raw connection, read (bounded) after the attack's bytes.
struct Ending {
    std::size_t bytes = 0;   // what the gate sent before the end
    bool eof = false;        // orderly close
    bool reset = false;      // connection reset
    bool still_open = false; // nothing within the bound
    std::string text() const {
        return eof ? "closed" : reset ? "reset" : still_open ? "STILL OPEN" : "ended";
    }
    bool ended() const { return !still_open; }
};

inline awaitable<void> sleep_ms(int ms) {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(ms));
    co_await t.async_wait(as_tuple_awaitable);
}

// Reads until the peer ends the connection, at most `limit`.
inline awaitable<Ending> ending_of(tcp::socket& s, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    Ending e;
    auto ex = co_await asio::this_coro::executor;
    asio::steady_timer timer(ex, limit);
    timer.async_wait([&s](std::error_code ec) {
        if (!ec) s.cancel();
    });
    std::array<char, 4096> buf{};
    for (int i = 0; i < 100000; ++i) {
        auto [ec, n] = co_await s.async_read_some(asio::buffer(buf), as_tuple_awaitable);
        e.bytes += n;
        if (!ec) continue;
        if (ec == asio::error::eof) e.eof = true;
        else if (ec == asio::error::connection_reset) e.reset = true;
        else if (ec == asio::error::operation_aborted) e.still_open = true;
        break;
    }
    timer.cancel();
    co_return e;
}

// Connects from `source`, sends `bytes` (then half-closes when `then_eof`),
// and reports how the gate ended the connection and the local endpoint (to
// find its audit line).
struct RawResult {
    tcp::endpoint local;
    Ending ending;
};
inline awaitable<RawResult> send_raw(std::string source, std::uint16_t port, Bytes bytes, bool then_eof = false) {
    auto s = co_await connect_from(source, port);
    RawResult r{s.local_endpoint(), {}};
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(bytes), as_tuple_awaitable);
    (void)n;
    if (!ec && then_eof) s.shutdown(tcp::socket::shutdown_send, ec);
    r.ending = co_await ending_of(s);
    co_return r;
}

// A stream over a shared inner stream: the secure channel runs on top of it
// while the test keeps the inner stream to write raw bytes under it.
class TapStream final : public StreamImpl {
public:
    explicit TapStream(std::shared_ptr<Stream> inner) : inner_(std::move(inner)) {}
    asio::any_io_executor get_executor() override { return inner_->get_executor(); }
    awaitable<std::size_t> read_some(asio::mutable_buffer b) override { return inner_->read_some(b); }
    awaitable<std::size_t> write_some(asio::const_buffer b) override { return inner_->write_some(b); }
    awaitable<void> shutdown_send() override { return inner_->shutdown_send(); }
    void close() noexcept override { inner_->close(); }
    tcp::endpoint remote_endpoint() const override { return inner_->remote_endpoint(); }
    Protection protection() const override { return inner_->protection(); }

private:
    std::shared_ptr<Stream> inner_;
};

// A secure channel from `source`, and the raw TCP stream beneath it.
struct TappedChannel {
    tcp::endpoint local;
    std::shared_ptr<Stream> raw;
    Session session;
};
inline awaitable<TappedChannel> open_tapped_channel(std::string source, std::uint16_t port) {
    auto s = co_await connect_from(source, port);
    TappedChannel t{s.local_endpoint(), std::make_shared<Stream>(tcp_stream(std::move(s))), {}};
    Authenticator layer = client::secure_channel();
    t.session = co_await layer(start_session(Stream(std::make_shared<TapStream>(t.raw))));
    co_return t;
}

// Reads one public_key message (a frame, compose/frame.hpp) and returns its body.
inline awaitable<Bytes> read_pk_message(Stream& stream) {
    return read_frame(stream, max_public_key_message, "public_key message");
}

// What the gate answered to a forged public_key C1: the reason of its deny
// (the coarse reason it sent), or nothing if it accepted.
struct ProofResult {
    tcp::endpoint local;
    std::optional<DenyReason> refused;
    std::string error;  // anything else (e.g. the gate closed without a deny)
};

// Opens a channel from `source`, reads S1, sends `make_c1(s1, channel id)`
// and reads the gate's answer (S2, then its accept or deny record).
inline awaitable<ProofResult> send_c1(std::string source, std::uint16_t port,
                                      std::function<Bytes(const KeyProof&, const Bytes&)> make_c1) {
    ProofResult r;
    try {
        auto s = co_await connect_from(source, port);
        r.local = s.local_endpoint();
        Authenticator layer = client::secure_channel();
        Session ch = co_await layer(start_session(tcp_stream(std::move(s))));
        Bytes cid = ch.stream.protection().channel_id;
        KeyProof s1 = decode_s1(co_await read_pk_message(ch.stream));
        Bytes c1 = make_c1(s1, cid);
        co_await write_all(ch.stream, asio::buffer(c1));
        bool accepted = decode_s2(co_await read_pk_message(ch.stream));
        co_await ch.stream.receive_verdict();  // the deny record, if any, throws here
        if (!accepted) r.error = "S2 denied without a deny record";
    } catch (const AuthenticationError& e) {
        r.refused = e.reason();
    } catch (const std::exception& e) {
        r.error = e.what();
    }
    co_return r;
}

}  // namespace attacks

namespace attacks {

// Reads `stream` until its end (0, or an error), at most `limit`: "closed",
// "reset", "refused: <reason>" (a deny record), "error: ..." or "STILL OPEN".
inline awaitable<std::string> stream_ending(Stream& stream, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    auto reading = [](Stream& st) -> awaitable<std::string> {
        std::array<char, 4096> buf{};
        for (int i = 0; i < 100000; ++i) {
            try {
                if (co_await st.read_some(asio::buffer(buf)) == 0) co_return "closed";
            } catch (const AuthenticationError& e) {
                co_return "refused: " + std::string(to_string(e.reason()));
            } catch (const std::system_error& e) {
                co_return e.code() == asio::error::eof              ? "closed"
                          : e.code() == asio::error::connection_reset ? "reset"
                                                                      : "error: " + e.code().message();
            }
        }
        co_return "STILL OPEN";
    };
    auto result = co_await (reading(stream) || sleep_ms(static_cast<int>(limit.count())));
    if (result.index() == 1) co_return "STILL OPEN";
    co_return std::get<0>(result);
}

// Whether the gate has ended `s` (end of stream or reset), without waiting.
inline bool ended_now(tcp::socket& s) {
    s.non_blocking(true);
    std::array<char, 256> buf{};
    for (int i = 0; i < 100; ++i) {
        std::error_code ec;
        s.read_some(asio::buffer(buf), ec);
        if (ec == asio::error::would_block || ec == asio::error::try_again) return false;
        if (ec) return true;
    }
    return false;
}

}  // namespace attacks
