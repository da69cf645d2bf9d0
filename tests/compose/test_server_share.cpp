// Issue 14, finding 1: one source cannot take every handshake slot. Each
// source (an IPv4 address, an IPv6 /64, a mapped address as IPv4) holds at
// most its share of max_handshakes; a busy refusal goes through the same
// refuse path as any other, so a transport that can carry it sends `busy`.
#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>

#include <authchain/compose/server.hpp>
#include "tests/support/run.hpp"
#include "tests/support/telling_stream.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace std::chrono_literals;

namespace {

using authchain::test::sleep_for;


// Server chain: the client must send "ok" first.
Authenticator hello() {
    return [](Session s) -> asio::awaitable<Session> {
        char b[2];
        co_await read_exact(s.stream, asio::buffer(b), "hello");
        if (std::string_view(b, 2) != "ok") deny(DenyReason::denied, "bad hello");
        co_return s;
    };
}

PipeOptions from(const char* address) {
    PipeOptions o;
    o.client.endpoint = {asio::ip::make_address(address), 40000};
    return o;
}

struct Seen {
    std::vector<AuditRecord> audit;
    std::vector<std::string> handled;  // peer addresses that reached the handler
    std::size_t busy() const {
        return static_cast<std::size_t>(std::count_if(audit.begin(), audit.end(), [](const AuditRecord& r) {
            return !r.accepted && r.reason == DenyReason::busy;
        }));
    }
};

// Opens `idle` silent connections from `flooder`, then lets `other` through.
// With max_handshakes (the default per-source share applies), counts what
// was refused busy and who reached the handler.
Seen flood_then(std::size_t max_handshakes, std::vector<const char*> flooders, std::size_t idle, const char* other) {
    Seen seen;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.max_handshakes = max_handshakes;
        opts.handshake_timeout = 10s;  // never reached: the test closes everything first
        opts.audit = [&](const AuditRecord& r) { seen.audit.push_back(r); };
        Server server(listener, hello(),
                      [&](Session s) -> asio::awaitable<void> {
                          seen.handled.push_back(s.stream.remote_endpoint().address().to_string());
                          co_await write_all(s.stream, asio::buffer(std::string("hi")));
                      },
                      opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        std::vector<Stream> held;
        for (std::size_t i = 0; i < idle; ++i) held.push_back(listener.connect(from(flooders[i % flooders.size()])));
        co_await sleep_for(10ms);
        Stream good = listener.connect(from(other));
        co_await write_all(good, asio::buffer(std::string("ok")));
        char reply[2] = {};
        std::size_t n = co_await good.read_some(asio::buffer(reply));
        CHECK(n > 0);  // a busy refusal would close at once (n == 0)
        for (auto& s : held) s.close();
        co_await sleep_for(10ms);
        CHECK(server.in_handshake() == 0);
        server.stop();
        co_await sleep_for(10ms);
    });
    return seen;
}

using test::TellingStream;

// A listener whose streams can carry a deny (as a secure channel does).
class TellingListener final : public Listener {
public:
    TellingListener(PipeListener& pipes, std::shared_ptr<std::vector<DenyReason>> told)
        : pipes_(pipes), told_(std::move(told)) {}
    asio::awaitable<Stream> accept() override {
        Stream s = co_await pipes_.accept();
        co_return Stream::wrap<TellingStream>(std::move(s), told_);
    }
    void close() noexcept override { pipes_.close(); }

private:
    PipeListener& pipes_;
    std::shared_ptr<std::vector<DenyReason>> told_;
};

}  // namespace

TEST_CASE("server share: one IPv4 source holding its share of handshakes does not lock out another") {
    // 256 slots by default; the flooder opens all 256 and more.
    Seen seen = flood_then(256, {"192.0.2.7"}, 300, "198.51.100.1");
    CHECK(seen.handled == std::vector<std::string>{"198.51.100.1"});
    CHECK(seen.busy() == 300 - 128);  // the default share: 256 / 2
}

TEST_CASE("server share: an IPv6 source is its /64") {
    // The flooder picks a new address in its /64 for every connection.
    std::vector<const char*> same64 = {"2001:db8:0:1::1", "2001:db8:0:1::2", "2001:db8:0:1:ffff:ffff:ffff:ffff",
                                       "2001:db8:0:1:8000::9"};
    Seen seen = flood_then(64, same64, 64, "2001:db8:0:2::1");  // the next /64 is another source
    CHECK(seen.handled == std::vector<std::string>{"2001:db8:0:2::1"});
    CHECK(seen.busy() == 64 - 32);
}

TEST_CASE("server share: an IPv4-mapped IPv6 address counts as the IPv4 address") {
    Seen seen = flood_then(64, {"10.1.2.3", "::ffff:10.1.2.3"}, 64, "10.1.2.4");
    CHECK(seen.handled == std::vector<std::string>{"10.1.2.4"});
    CHECK(seen.busy() == 64 - 32);
}

TEST_CASE("server share: max_handshakes_per_source sets the share; a slot frees when its handshake ends") {
    std::vector<AuditRecord> audit;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions opts;
        opts.max_handshakes = 100;
        opts.max_handshakes_per_source = 2;
        opts.handshake_timeout = 10s;
        opts.audit = [&](const AuditRecord& r) { audit.push_back(r); };
        Server server(listener, hello(), [](Session) -> asio::awaitable<void> { co_return; }, opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        auto a = asio::ip::make_address("192.0.2.1");
        Stream a1 = listener.connect(from("192.0.2.1"));
        Stream a2 = listener.connect(from("192.0.2.1"));
        co_await sleep_for(10ms);
        CHECK(server.in_handshake_from(a) == 2);
        Stream a3 = listener.connect(from("192.0.2.1"));
        char x;
        CHECK(co_await a3.read_some(asio::buffer(&x, 1)) == 0);  // refused at once
        co_await write_all(a1, asio::buffer(std::string("ok")));
        co_await sleep_for(10ms);
        CHECK(server.in_handshake_from(a) == 1);
        Stream a4 = listener.connect(from("192.0.2.1"));
        co_await sleep_for(10ms);
        CHECK(server.in_handshake_from(a) == 2);
        a2.close();
        a4.close();
        co_await sleep_for(10ms);
        CHECK(server.in_handshake() == 0);
        server.stop();
        co_await sleep_for(10ms);
    });
    REQUIRE(audit.size() >= 2);
    CHECK(audit[0].reason == DenyReason::busy);
    CHECK(audit[0].detail == "too many connections in their handshake");
    CHECK(audit[1].accepted);
}

TEST_CASE("server share: a busy refusal sends busy where the transport can carry it") {
    auto told = std::make_shared<std::vector<DenyReason>>();
    std::vector<AuditRecord> audit;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener pipes(ex);
        TellingListener listener(pipes, told);
        ServerOptions opts;
        opts.max_handshakes = 1;
        opts.handshake_timeout = 10s;
        opts.audit = [&](const AuditRecord& r) { audit.push_back(r); };
        Server server(listener, hello(), [](Session) -> asio::awaitable<void> { co_return; }, opts);
        asio::co_spawn(ex, server.run(), asio::detached);
        Stream first = pipes.connect(from("192.0.2.1"));
        co_await sleep_for(10ms);
        Stream second = pipes.connect(from("198.51.100.1"));  // the global bound this time
        char x;
        CHECK(co_await second.read_some(asio::buffer(&x, 1)) == 0);
        first.close();
        co_await sleep_for(10ms);
        server.stop();
        co_await sleep_for(10ms);
    });
    REQUIRE(told->size() >= 1);
    CHECK(told->front() == DenyReason::busy);
    REQUIRE(audit.size() >= 1);
    CHECK(audit[0].reason == DenyReason::busy);
}
