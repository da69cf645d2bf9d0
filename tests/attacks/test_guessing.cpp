// Key guessing and CPU exhaustion through public_key (issue 14 findings 1
// and 3): concurrent guesses past failure_throttle, blocked sources evicted
// by others' failures, and RSA keys that would cost seconds to verify.
#include "tests/attacks/flood.hpp"
#include "tests/auth/public_key_fixture.hpp"

#include <fmt/format.h>

using namespace attacks;
using openssh::PrivateKey;

namespace {

// A C1 from a key the gate does not list, correctly signed for this channel.
Bytes stranger_c1(const KeyProof& s1, const Bytes& cid) {
    PrivateKey k = PrivateKey::generate_ed25519();
    return encode_c1({k.public_key().blob(), k.sign(user_signed_data(cid, s1.key_blob))});
}

// `n` concurrent forged C1s from `source`.
awaitable<std::vector<ProofResult>> concurrent_c1(std::string source, std::uint16_t port, std::size_t n,
                                                  std::function<Bytes(const KeyProof&, const Bytes&)> make) {
    auto ex = co_await asio::this_coro::executor;
    auto results = std::make_shared<std::vector<ProofResult>>();
    auto left = std::make_shared<std::size_t>(n);
    for (std::size_t i = 0; i < n; ++i)
        asio::co_spawn(ex, send_c1(source, port, make), [results, left](std::exception_ptr, ProofResult r) {
            results->push_back(std::move(r));
            --*left;
        });
    for (int i = 0; i < 6000 && *left > 0; ++i) co_await sleep_ms(10);
    co_return *results;
}

}  // namespace

TEST_CASE("attacks: concurrent guesses past failure_throttle, and blocked sources evicted (finding 3)" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g({.throttle = "max_failures = 5\nwindow = \"60s\"\ncooldown = \"300s\"\nmax_sources = 16\n"});
    const std::uint16_t port = g.gate.port;
    for (std::string source : {"127.0.0.4", "::1"}) {
        auto guesses = in_background(
            [port, source](asio::any_io_executor) { return concurrent_c1(source, port, 30, stranger_c1); });
        bool legit = g.legit_ping();  // while they run
        auto results = guesses.get();
        wait_audit_count(g.audit(), {source}, std::vector<std::string>{"denied", "busy", "host blocked"}, 30);
        std::size_t verdicts = wait_audit_count(g.audit(), {source}, "denied", 0);
        std::size_t held_off = wait_audit_count(g.audit(), {source}, std::vector<std::string>{"busy", "host blocked"}, 0);
        std::size_t accepted = 0;
        for (const auto& r : results) accepted += !r.refused && r.error.empty();
        long reached = g.attacker_backend_connections();
        bool ok = results.size() == 30 && accepted == 0 && verdicts <= 5 && verdicts + held_off == 30;
        CHECK(ok);
        CHECK(legit);
        CHECK(reached == 0);
        record(std::string("guessing: 30 concurrent attempts with unlisted keys from one source (") +
                   (source == "::1" ? "IPv6" : "IPv4") + "), max_failures = 5",
               "at most 5 reach a verdict (denied); the rest refused busy / host blocked; legit client gets in",
               std::to_string(verdicts) + " denied, " + std::to_string(held_off) + " busy or host blocked, " +
                   std::to_string(accepted) + " accepted; backend +" + std::to_string(reached) + ", legit client " +
                   (legit ? "ok" : "FAILED"),
               ok && legit && reached == 0);
    }

    // 14 other sources fail once each: the table (max_sources = 16) is full
    // of live sources, and under LRU the blocked ones would be gone.
    auto others = in_background([port](asio::any_io_executor) -> awaitable<std::size_t> {
        std::size_t refused = 0;
        std::function<Bytes(const KeyProof&, const Bytes&)> make = stranger_c1;  // no temporary in co_await (g++ 12)
        for (int i = 40; i < 54; ++i) {
            std::string source = "127.0.0." + std::to_string(i);
            ProofResult r = co_await send_c1(source, port, make);
            refused += r.refused.has_value();
        }
        co_return refused;
    });
    std::size_t others_refused = others.get();
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));  // a new audit window for the blocked sources
    std::vector<std::string> again;
    for (std::string source : {"127.0.0.4", "::1"}) {
        auto r = test::run([&](asio::any_io_executor) { return send_c1(source, port, stranger_c1); });
        again.push_back(audit_reason(audit_line_for(g.audit(), r.local)));
    }
    bool legit = g.legit_ping();
    long reached = g.attacker_backend_connections();
    bool ok = others_refused == 14 && again == std::vector<std::string>{"host blocked", "host blocked"};
    if (!ok)
        for (std::string source : {"127.0.0.4", "::1"})
            for (const auto& j : audit_lines_from(g.audit(), source)) MESSAGE(j.dump());
    CHECK(ok);
    CHECK(legit);
    CHECK(reached == 0);
    record("guessing: evict the blocked sources by failing from 14 other sources (table of 16)",
           "blocked sources stay blocked until their cooldown ends; legit client gets in",
           std::to_string(others_refused) + " others refused; then IPv4: " + again[0] + ", IPv6: " + again[1] +
               "; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
           ok && legit && reached == 0);
}

TEST_CASE("attacks: RSA user keys with a huge exponent to burn the gate's CPU (finding 1)" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    const std::uint16_t port = g.gate.port;
    const Bytes hostile = pk_test::huge_exponent_rsa_blob(), signature = pk_test::rsa_signature_blob();
    auto make = [hostile, signature](const KeyProof&, const Bytes&) { return encode_c1({hostile, signature}); };
    const double cpu_before = cpu_seconds(g.gate->pid());
    auto v4 = in_background([port, make](asio::any_io_executor) { return concurrent_c1("127.0.0.6", port, 4, make); });
    auto v6 = in_background([port, make](asio::any_io_executor) { return concurrent_c1("::1", port, 4, make); });
    bool legit = g.legit_ping();  // while they run
    auto r4 = v4.get(), r6 = v6.get();
    const double cpu = cpu_seconds(g.gate->pid()) - cpu_before;
    long reached = g.attacker_backend_connections();
    std::size_t protocol_errors = 0;
    for (const auto* rs : {&r4, &r6})
        for (const auto& r : *rs) protocol_errors += r.refused == DenyReason::protocol_error;
    bool ok = r4.size() == 4 && r6.size() == 4 && protocol_errors == 8;
    CHECK(ok);
    CHECK(legit);
    CHECK(reached == 0);
    record("CPU: 8 C1s (IPv4, IPv6) with a 16384-bit RSA key, e = n - 2 (2.1 s of verify each, unfixed)",
           "refused as protocol error before any verify (exponent bounded); legit client gets in",
           std::to_string(protocol_errors) + "/8 refused: protocol error (the reason the gate sent); gate CPU for the "
               "whole case " + fmt::format("{:.2f}", cpu) + " s; backend +" + std::to_string(reached) +
               ", legit client " + (legit ? "ok" : "FAILED"),
           ok && legit && reached == 0);
}
