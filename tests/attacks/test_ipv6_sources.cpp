// IPv6 attacks from many real source addresses (issue 14, finding 2): the
// gate groups IPv6 sources per /64 (compose/cidr.hpp's source_of), so many
// addresses of one /64 share one source's part of the handshake slots.
//
// ::1 is the only IPv6 address loopback has, so the case runs in a network
// namespace of its own: it re-executes this test executable, this case
// only, under `unshare -n`; inside, it brings loopback up, adds addresses
// in several /64s (`ip -6 addr add ... dev lo`) and runs the gate, redis,
// the tunnel and the attackers there (each attacker socket bound to its
// address). The inner run hands its table rows back in a file
// (AUTHCHAIN_IPV6_NETNS_ROWS names it); the namespace dies with its last
// process, and every process is stopped by PID.
#include "tests/attacks/chain_gate.hpp"
#include "tests/attacks/flood.hpp"

#include <nlohmann/json.hpp>

namespace ipv6_sources {

using namespace attacks;

constexpr const char* rows_variable = "AUTHCHAIN_IPV6_NETNS_ROWS";
constexpr const char* case_name = "attacks: IPv6 floods from many addresses of one /64 and from many /64s";

// The addresses: the flood of idle connections from 12 addresses of one
// /64, the legitimate client alone in another, the failing handshakes from
// 8 /64s with 2 addresses each.
const std::string legit_address = "fd00:b::1";
std::vector<std::string> one_prefix() {
    std::vector<std::string> a;
    for (int i = 1; i <= 12; ++i) a.push_back("fd00:a::" + std::to_string(i));
    return a;
}
std::vector<std::string> many_prefixes() {
    std::vector<std::string> a;
    for (int p = 1; p <= 8; ++p)
        for (int i = 1; i <= 2; ++i) a.push_back("fd00:c:" + std::to_string(p) + "::" + std::to_string(i));
    return a;
}

// Inside the namespace: loopback up, every address added (no duplicate
// address detection, so they can be bound at once).
void add_addresses() {
    std::string cmd = "ip link set lo up";
    std::vector<std::string> all = one_prefix(), more = many_prefixes();
    all.insert(all.end(), more.begin(), more.end());
    all.push_back(legit_address);
    for (const auto& a : all) cmd += " && ip -6 addr add " + a + "/128 dev lo nodad";
    std::string out;
    REQUIRE_MESSAGE(shell(cmd + " 2>&1", &out) == 0, "setting up the namespace's addresses failed: " << out);
}

// A row for the outer run's table (inner run: appended to the rows file).
void hand_back(const std::string& attack, const std::string& expected, const std::string& observed, bool held) {
    const char* file = std::getenv(rows_variable);
    std::ofstream(file, std::ios::app)
        << json{{"attack", attack}, {"expected", expected}, {"observed", observed}, {"held", held}}.dump() << "\n";
}

// Accepted audit lines whose peer is `address` (any port), once there are
// `n` (bounded wait: 5 s; a session's line is written when it ends).
std::size_t accepted_from(const std::filesystem::path& audit, const std::string& address, std::size_t n) {
    std::size_t accepted = 0;
    for (int i = 0; i < 250; ++i) {
        accepted = 0;
        for (const auto& j : audit_lines_from(audit, address)) accepted += j.value("verdict", "") == "accepted";
        if (accepted >= n) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return accepted;
}

// The whole case, inside the namespace.
void run_inside() {
    add_addresses();
    ChainGate g;
    // max_connections = 32: 32 handshake slots, 16 per source (an IPv4
    // address or an IPv6 /64). The failure_throttle admits 5 attempts in
    // flight per source with max_failures = 5, which would hide the slot
    // share: 1000, as in AttackGate.
    g.start("max_connections = 32\n",
            "[[layer]]\nkind = \"ip_filter\"\nallow = [\"fd00::/8\"]\n"
            "[[layer]]\nkind = \"failure_throttle\"\nmax_failures = 1000\n"
            "[[layer]]\nkind = \"secure_channel\"\n"
            "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n");
    g.know_host(legit_address);
    // The tunnel dials fd00:b::1, a local address: the kernel picks it as the source too.
    Daemon tunnel = g.tunnel("legit", legit_address,
                             "[[layer]]\nkind = \"secure_channel\"\n"
                             "[[layer]]\nkind = \"public_key\"\nidentity = \"client\"\nknown_hosts = \"known_hosts\"\n");
    const std::uint16_t port = g.gate.port;

    // 1. 48 idle connections from 12 addresses of fd00:a::/64, 4 each: per
    // address they would hold all 32 slots; per /64 they hold 16.
    {
        const auto sources = one_prefix();
        const std::size_t n = 48;
        asio::io_context io;
        std::vector<tcp::socket> idle;
        std::size_t connected = 0;
        for (std::size_t i = 0; i < n; ++i) {
            tcp::socket s(io);
            auto from = asio::ip::make_address(sources[i % sources.size()]);
            std::error_code ec;
            s.open(tcp::v6());
            s.bind({from, 0}, ec);
            if (!ec) s.connect({from, port}, ec);
            if (!ec) ++connected;
            idle.push_back(std::move(s));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the gate refuses the extra ones at once
        std::size_t refused = 0;
        for (auto& s : idle) refused += ended_now(s);
        bool legit = g.legit_ping(tunnel.port);  // while the idle ones hold their slots (handshake_timeout 10 s)
        long reached = g.attacker_backend_connections();
        auto busy = wait_audit_count(g.audit(), sources, "busy", n - 16);
        bool from_legit = accepted_from(g.audit(), legit_address, 1) == 1;
        for (auto& s : idle) s.close();

        bool ok = connected == n && refused == n - 16 && busy == n - 16;
        CHECK(connected == n);
        CHECK(refused == n - 16);  // the /64 holds its 16 of the 32 slots
        CHECK(busy == n - 16);
        CHECK(legit);
        CHECK(from_legit);
        CHECK(reached == 0);
        hand_back("flood (IPv6 namespace): 48 idle connections from 12 addresses of one /64 (fd00:a::/64), "
                  "32 handshake slots",
                  "the /64 is one source: it holds 16 slots, the other 32 connections refused as busy; the legit "
                  "client from another /64 (fd00:b::1) gets in",
                  std::to_string(connected) + " connected, " + std::to_string(refused) +
                      " refused at once (audit: " + std::to_string(busy) + " busy), backend +" +
                      std::to_string(reached) + ", legit client from fd00:b::1 " +
                      (legit && from_legit ? "ok" : "FAILED"),
                  ok && legit && from_legit && reached == 0);
    }

    // 2. Failing handshakes from 16 addresses in 8 /64s, one at a time per
    // address (at most 16 at once: a flood that held every slot would lock
    // anyone out, by design), while the legit client connects.
    {
        const auto sources = many_prefixes();
        const Bytes garbage{'G', 'E', 'T', ' ', '/', '\r', '\n', '\r', '\n'};
        auto flooding = in_background([port, sources, garbage](asio::any_io_executor) {
            return flood(sources, 12, 1, port, garbage);
        });
        bool legit = g.legit_ping(tunnel.port);  // while they run
        legit = g.legit_ping(tunnel.port) && legit;
        Tally t = flooding.get();
        legit = g.legit_ping(tunnel.port) && legit;
        long reached = g.attacker_backend_connections();
        const std::size_t sent = sources.size() * 12;
        auto refused = wait_audit_count(g.audit(), sources, "protocol error", sent);
        bool from_legit = accepted_from(g.audit(), legit_address, 4) == 4;
        bool ok = t.sent == sent && t.still_open == 0 && t.failed == 0 && refused == sent;
        CHECK(ok);
        CHECK(legit);
        CHECK(from_legit);
        CHECK(reached == 0);
        hand_back("flood (IPv6 namespace): 192 failing handshakes from 16 addresses in 8 /64s (fd00:c:1..8::/64)",
                  "every one refused (protocol error); the legit client from fd00:b::1 gets in",
                  t.text() + "; audit: " + std::to_string(refused) + " protocol error; backend +" +
                      std::to_string(reached) + ", legit client from fd00:b::1 " +
                      (legit && from_legit ? "ok" : "FAILED"),
                  ok && legit && from_legit && reached == 0);
    }
}

// Outside: runs this case again under `unshare -n` and takes its rows.
void run_outside() {
    require_tools({"unshare", "ip", "redis-server", "redis-cli"});
    TempDir dir;
    const auto rows = dir / "rows.jsonl", log = dir / "inner.out";
    const std::string self = std::filesystem::read_symlink("/proc/self/exe").string();
    std::optional<int> status;
    {
        Process inner({"unshare", "-n", "env", std::string(rows_variable) + "=" + rows.string(), self,
                       std::string("-tc=") + case_name},
                      log);
        status = inner.wait(std::chrono::seconds(90));
    }  // stopped by PID if it did not end
    const std::string output = std::filesystem::exists(log) ? read_file(log) : "";
    INFO("the run inside the network namespace (unshare -n " << self << " -tc=...):\n" << output);
    REQUIRE_MESSAGE(status.has_value(), "the run inside the network namespace did not end within 90 s");
    if (*status != 0 && output.find("unshare:") != std::string::npos)
        FAIL("unshare -n failed (needs root, or CAP_SYS_ADMIN): " << output);
    CHECK(*status == 0);
    std::vector<json> handed;
    if (std::filesystem::exists(rows)) {
        std::ifstream in(rows);
        for (std::string line; std::getline(in, line);) handed.push_back(json::parse(line));
    }
    CHECK(handed.size() == 2);
    for (const auto& r : handed) {
        record(r.at("attack"), r.at("expected"), r.at("observed"), r.at("held"));
        CHECK_MESSAGE(r.at("held").get<bool>(), r.at("attack").get<std::string>());
    }
}

}  // namespace ipv6_sources

TEST_CASE("attacks: IPv6 floods from many addresses of one /64 and from many /64s" *
          doctest::skip(skip_without_redis() || skip_missing({"unshare", "ip"}))) {
    if (std::getenv(ipv6_sources::rows_variable))
        ipv6_sources::run_inside();
    else
        ipv6_sources::run_outside();
}
