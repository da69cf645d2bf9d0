// Denial of service (issue 14 findings 1-4, and the floods that held):
// handshake slots held by one source, floods of failing handshakes from
// one and many sources, slowloris, concurrent guessing past the
// failure_throttle, the audit log under a flood, and RSA keys that cost
// seconds to verify. Every flood is bounded in count.
#include "tests/attacks/flood.hpp"
#include "tests/auth/public_key_fixture.hpp"

using namespace attacks;

namespace {

const Bytes http_request{'G', 'E', 'T', ' ', '/', '\r', '\n', '\r', '\n'};

}  // namespace

TEST_CASE("attacks: one source opens idle connections to take every handshake slot (finding 2)" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;  // default bounds: 256 handshakes, 128 per source
    const std::size_t n = 200;
    for (std::string source : {"127.0.0.2", "::1"}) {
        asio::io_context io;
        std::vector<tcp::socket> idle;
        std::size_t connected = 0;
        for (std::size_t i = 0; i < n; ++i) {
            tcp::socket s(io);
            auto from = asio::ip::make_address(source);
            std::error_code ec;
            s.open(from.is_v4() ? tcp::v4() : tcp::v6());
            s.bind({from, 0}, ec);
            s.connect({from.is_v4() ? asio::ip::make_address("127.0.0.1") : from, g.gate.port}, ec);
            if (!ec) ++connected;
            idle.push_back(std::move(s));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the gate refuses the extra ones at once
        bool legit = g.legit_ping();  // while the idle connections hold their slots
        std::size_t refused = 0;
        for (auto& s : idle) refused += ended_now(s);
        long reached = g.attacker_backend_connections();
        auto busy = wait_audit_count(g.audit(), {source}, "busy", n - 128);
        for (auto& s : idle) s.close();

        CHECK(connected == n);
        CHECK(refused >= n - 128);  // one source holds at most half of the 256 slots
        CHECK(busy >= n - 128);
        CHECK(legit);
        CHECK(reached == 0);
        record(std::string("flood: ") + std::to_string(n) + " idle connections from one source (" +
                   (source == "::1" ? "IPv6" : "IPv4") + ") to hold every handshake slot",
               "the source gets at most 128 of the 256 slots, the rest refused as busy; legit client gets in",
               std::to_string(connected) + " connected, " + std::to_string(refused) + " refused at once (audit: " +
                   std::to_string(busy) + " busy), backend +" + std::to_string(reached) + ", legit client " +
                   (legit ? "ok" : "FAILED"),
               connected == n && refused >= n - 128 && legit && reached == 0);
    }
}

TEST_CASE("attacks: floods of failing handshakes from one and from many sources" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g({.throttle = "max_failures = 5\n"});
    const std::uint16_t port = g.gate.port;
    std::vector<std::string> many;
    for (int i = 20; i < 28; ++i) many.push_back("127.0.0." + std::to_string(i));
    auto one = in_background([port](asio::any_io_executor) {
        return flood({"127.0.0.2", "::1"}, 150, 8, port, http_request);
    });
    auto spread = in_background([port, many](asio::any_io_executor) { return flood(many, 30, 2, port, http_request); });
    bool legit = g.legit_ping();  // while they run
    legit = g.legit_ping() && legit;
    Tally t_one = one.get(), t_many = spread.get();
    legit = g.legit_ping() && legit;
    long reached = g.attacker_backend_connections();

    bool one_ok = t_one.still_open == 0 && t_one.failed == 0 && t_one.sent == 300;
    bool many_ok = t_many.still_open == 0 && t_many.failed == 0 && t_many.sent == 240;
    CHECK(one_ok);
    CHECK(many_ok);
    CHECK(legit);
    CHECK(reached == 0);
    wait_audit_count(g.audit(), {"127.0.0.2", "::1"},
                     std::vector<std::string>{"protocol error", "host blocked", "busy"}, 300);
    // 5 attempts per source get a verdict; the rest are blocked (or busy
    // while those 5 are still in flight).
    auto blocked = wait_audit_count(g.audit(), {"127.0.0.2", "::1"}, std::vector<std::string>{"host blocked", "busy"}, 0);
    auto malformed = wait_audit_count(g.audit(), {"127.0.0.2", "::1"}, "protocol error", 0);
    one_ok = one_ok && malformed <= 10 && malformed + blocked == 300;
    CHECK(malformed <= 10);
    CHECK(malformed + blocked == 300);
    record("flood: 300 failing handshakes from one source each family (127.0.0.2, ::1), 8 at a time",
           "every one refused (protocol error, then host blocked by failure_throttle); legit client gets in",
           t_one.text() + "; audit: " + std::to_string(malformed) + " protocol error, " + std::to_string(blocked) +
               " host blocked or busy; backend +" +
               std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
           one_ok && legit && reached == 0);
    record("flood: 240 failing handshakes from 8 sources (127.0.0.20-27)",
           "every one refused; legit client gets in",
           t_many.text() + "; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
           many_ok && legit && reached == 0);
}

TEST_CASE("attacks: slowloris: offers sent one byte at a time" * doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;  // handshake_timeout 3 s
    const std::uint16_t port = g.gate.port;
    // 30 connections from each family, one byte every 250 ms: the offer and
    // message 1 (41 bytes) would take 10 s.
    auto drip = in_background([port](asio::any_io_executor ex) -> awaitable<Tally> {
        auto tally = std::make_shared<Tally>();
        auto workers = std::make_shared<std::size_t>(0);
        for (std::string source : {"127.0.0.3", "::1"})
            for (int c = 0; c < 30; ++c) {
                ++*workers;
                asio::co_spawn(
                    ex,
                    [](std::string source, std::uint16_t port, std::shared_ptr<Tally> t) -> awaitable<void> {
                        ++t->sent;
                        auto s = co_await connect_from(source, port);
                        Bytes c1{'A', 'C', 'S', 'C', 1, 1, 0x21, 0, 32};
                        c1.resize(c1.size() + 32, 7);
                        for (std::size_t i = 0; i < c1.size(); ++i) {
                            auto [ec, n] = co_await asio::async_write(s, asio::buffer(&c1[i], 1), as_tuple_awaitable);
                            (void)n;
                            if (ec) break;  // the gate gave up on us
                            co_await sleep_ms(250);
                        }
                        auto e = co_await ending_of(s, std::chrono::seconds(2));
                        if (e.eof) ++t->closed;
                        else if (e.reset) ++t->reset;
                        else ++t->still_open;
                    }(source, port, tally),
                    [workers, tally](std::exception_ptr e) {
                        if (e) ++tally->failed;
                        --*workers;
                    });
            }
        for (int i = 0; i < 3000 && *workers > 0; ++i) co_await sleep_ms(10);
        co_return *tally;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    bool legit = g.legit_ping();  // while they drip
    Tally t = drip.get();
    long reached = g.attacker_backend_connections();
    auto timeouts = wait_audit_count(g.audit(), {"127.0.0.3", "::1"}, "timeout", 60);
    bool ok = t.sent == 60 && t.still_open == 0 && t.failed == 0 && timeouts == 60;
    CHECK(ok);
    CHECK(legit);
    CHECK(reached == 0);
    record("slowloris: 60 connections (IPv4 and IPv6) sending the offer one byte per 250 ms",
           "each cut at the 3 s handshake deadline (timeout); legit client gets in",
           t.text() + "; audit: " + std::to_string(timeouts) + " timeout; backend +" + std::to_string(reached) +
               ", legit client " + (legit ? "ok" : "FAILED"),
           ok && legit && reached == 0);
}

TEST_CASE("attacks: a flood of refusals against the audit log's disk (finding 4)" * doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    const std::uint16_t port = g.gate.port;
    REQUIRE(g.legit_ping());
    wait_audit(g.audit(), 1);
    const auto before = std::filesystem::file_size(g.audit());
    auto v4 = in_background([port](asio::any_io_executor) { return flood({"127.0.0.5"}, 800, 8, port, http_request); });
    auto v6 = in_background([port](asio::any_io_executor) { return flood({"::1"}, 400, 8, port, http_request); });
    bool legit = g.legit_ping();  // while they run
    legit = g.legit_ping() && legit;
    Tally t4 = v4.get(), t6 = v6.get();
    std::size_t refused = t4.sent + t6.sent;
    std::size_t counted = wait_audit_count(g.audit(), {"127.0.0.5", "::1"}, "protocol error", refused);
    auto accepted = wait_audit(g.audit(), static_cast<std::size_t>(g.legit_pings));
    long reached = g.attacker_backend_connections();
    const auto grown = std::filesystem::file_size(g.audit()) - before;
    std::size_t lines = 0;
    for (const auto& s : {"127.0.0.5", "::1"}) lines += audit_count(g.audit(), s, "protocol error").lines;
    std::size_t accepted_lines = 0;
    for (const auto& j : accepted) accepted_lines += j.value("verdict", "") == "accepted";

    // Unthrottled, 1200 refusals were 1200 lines of 210-270 bytes (about 290 kB).
    bool ok = counted == refused && grown < 64 * 1024 && accepted_lines == static_cast<std::size_t>(g.legit_pings);
    CHECK(counted == refused);
    CHECK(grown < 64 * 1024);
    CHECK(accepted_lines == static_cast<std::size_t>(g.legit_pings));
    CHECK(legit);
    CHECK(reached == 0);
    record("audit log flood: 1200 refused connections (800 IPv4, 400 IPv6)",
           "refusals rate-limited per source and reason, each counted; every accepted line kept; disk bounded",
           std::to_string(refused) + " refused, audit counts " + std::to_string(counted) + " (" + std::to_string(lines) +
               " lines, the rest in suppressed counts); file grew " + std::to_string(grown) + " bytes; " +
               std::to_string(accepted_lines) + "/" + std::to_string(g.legit_pings) +
               " accepted lines; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
           ok && legit && reached == 0);
}
