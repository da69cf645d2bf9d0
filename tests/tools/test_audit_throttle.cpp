// AuditThrottle: a flood of refused attempts leaves a bounded number of
// lines per source and reason, then one line with the count; the clock is
// injected, so no test waits.
#include <doctest/doctest.h>

#include <fstream>

#include "tests/support/run.hpp"
#include "tools/audit_throttle.hpp"

using namespace authchain;
using namespace authchain::tools;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// Every line of the file, parsed as JSON.
std::vector<json> json_lines_of(const std::filesystem::path& p) {
    std::vector<json> out;
    std::ifstream in(p);
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

std::size_t count_event(const std::vector<json>& lines, const std::string& event) {
    std::size_t n = 0;
    for (const auto& j : lines) n += j["event"] == event;
    return n;
}

json refusal(const std::string& peer) { return {{"event", "connection"}, {"peer", peer}, {"verdict", "denied"}}; }

struct Rig {
    test::TempDir dir;
    std::chrono::steady_clock::time_point now{};
    std::unique_ptr<AuditLog> log = std::make_unique<AuditLog>((dir / "audit.log").string());
    AuditThrottle throttle{*log, AuditThrottleOptions{.lines_per_interval = 3, .interval = 1s, .max_sources = 2},
                           [this] { return now; }};
    std::vector<json> lines() { return json_lines_of(dir / "audit.log"); }
};

const auto a = asio::ip::make_address("10.0.0.1");
const auto b = asio::ip::make_address("10.0.0.2");

}  // namespace

TEST_CASE("audit throttle: a flood from one source writes N lines per interval, then one line with the count") {
    Rig r;
    for (int i = 0; i < 1000; ++i) r.throttle.refused(refusal("10.0.0.1:1"), a, "denied");
    CHECK(r.lines().size() == 3);  // the rest counted only
    r.now += 1s;
    r.throttle.refused(refusal("10.0.0.1:1"), a, "denied");  // the next window opens: the count goes out first
    auto lines = r.lines();
    REQUIRE(lines.size() == 5);
    CHECK(lines[3]["event"] == "suppressed");
    CHECK(lines[3]["source"] == "10.0.0.1");
    CHECK(lines[3]["reason"] == "denied");
    CHECK(lines[3]["count"] == 997);
    CHECK(lines[4]["event"] == "connection");
}

TEST_CASE("audit throttle: the count goes out when the source calms down (flush), and at exit") {
    Rig r;
    for (int i = 0; i < 10; ++i) r.throttle.refused(refusal("p"), a, "denied");
    r.throttle.flush();  // the window is not over yet
    CHECK(count_event(r.lines(), "suppressed") == 0);
    r.now += 1500ms;
    r.throttle.flush();
    auto lines = r.lines();
    REQUIRE(count_event(lines, "suppressed") == 1);
    CHECK(lines.back()["count"] == 7);
    for (int i = 0; i < 5; ++i) r.throttle.refused(refusal("p"), a, "denied");
    r.throttle.flush(/*everything=*/true);
    lines = r.lines();
    CHECK(count_event(lines, "suppressed") == 2);
    CHECK(lines.back()["count"] == 2);
}

TEST_CASE("audit throttle: sources and reasons are limited apart; past max_sources they share one key") {
    Rig r;
    for (int i = 0; i < 10; ++i) {
        r.throttle.refused(refusal("a"), a, "denied");
        r.throttle.refused(refusal("b"), b, "busy");
    }
    CHECK(count_event(r.lines(), "connection") == 6);  // 3 each: one source does not silence another
    // Two keys tracked: a third source and a fourth share ("*", reason).
    for (int i = 0; i < 10; ++i) {
        r.throttle.refused(refusal("c"), asio::ip::make_address("10.0.0.3"), "denied");
        r.throttle.refused(refusal("d"), asio::ip::make_address("10.0.0.4"), "denied");
    }
    CHECK(count_event(r.lines(), "connection") == 9);
    r.throttle.flush(true);
    auto lines = r.lines();
    bool star = false;
    for (const auto& j : lines)
        if (j["event"] == "suppressed" && j["source"] == "*") star = j["count"] == 17;
    CHECK(star);
}

TEST_CASE("audit throttle: a flood of 100000 refusals over 10 s stays within (N + 1) lines per second") {
    Rig r;
    for (int s = 0; s < 10; ++s) {
        for (int i = 0; i < 10000; ++i) r.throttle.refused(refusal("10.0.0.1:1"), a, "denied");
        r.now += 1s;
    }
    r.throttle.flush(true);
    auto lines = r.lines();
    CHECK(lines.size() <= 10 * (3 + 1));
    std::uint64_t total = count_event(lines, "connection");
    for (const auto& j : lines)
        if (j["event"] == "suppressed") total += j["count"].get<std::uint64_t>();
    CHECK(total == 100000);  // nothing lost: every refusal is written or counted
}
