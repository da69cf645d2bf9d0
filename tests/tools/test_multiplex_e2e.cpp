// End to end with real processes and redis-server: a gate and a tunnel with
// multiplex = true, the chain ip_filter | secure_channel | public_key. Every
// local connection is a stream on one authenticated channel (per tunnel
// loop); the gate writes a line per stream and one per channel.
//
//   redis-cli -> tunnel ══ one channel, many streams ══ gate -> redis (a connection per stream)
#include "tests/tools/gate_fixture.hpp"
#include "tests/tools/service_support.hpp"

#include <fstream>
#include <set>

namespace multiplex_e2e_test {

using nlohmann::json;

const std::string on = "multiplex = true\n";

// A tunnel with the standard chain (secure_channel | public_key with
// `identity`) and `extra` top-level keys.
std::filesystem::path tunnel_config(Setup& s, const std::string& name, const std::string& identity,
                                    const std::string& extra) {
    return s.tunnel_config_with(name, extra + "[[layer]]\nkind = \"secure_channel\"\n"
                                              "[[layer]]\nkind = \"public_key\"\nidentity = \"" + identity + "\"\n"
                                              "known_hosts = \"known_hosts\"\n");
}

// redis, a gate in front of it (ip_filter | secure_channel | public_key,
// `gate_keys`, metrics) and the client's tunnel to it (`tunnel_keys`).
struct Running {
    Setup s;
    Redis redis{s.dir.path()};
    MeteredGate gate;
    Daemon tunnel;
    Running(const std::string& gate_keys, const std::string& tunnel_keys)
        : gate(metered_gate(s, s.gate_config(redis.backend(), "metrics_listen = \"127.0.0.1:0\"\n" + gate_keys))),
          tunnel(s.tunnel(tunnel_config(s, "tunnel", "client", tunnel_keys))) {}
    std::filesystem::path gate_audit() const { return s.dir / "gate-audit.log"; }
    std::filesystem::path tunnel_audit() const { return s.dir / "tunnel-audit.log"; }
    double gate_metric(const std::string& series) const { return sample(scrape(gate.metrics_port), series); }
    // SIGTERM to the tunnel; its exit status (nothing if it did not exit in time).
    std::optional<int> stop_tunnel() {
        tunnel->signal(SIGTERM);
        return tunnel->wait(std::chrono::seconds(10));
    }
    std::optional<int> stop_gate() {
        gate.gate->signal(SIGTERM);
        return gate.gate->wait(std::chrono::seconds(15));
    }
};

std::uint64_t streams_of(const std::vector<json>& channels) {
    std::uint64_t sum = 0;
    for (const auto& c : channels) sum += c.at("streams").get<std::uint64_t>();
    return sum;
}

// Polls (bounded: 500 polls, 10 s) until the "channel" lines of `file`
// account for at least `streams` streams.
std::vector<json> wait_channels(const std::filesystem::path& file, std::uint64_t streams) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<json> lines;
    for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
        lines = audit_lines(file, "channel");
        if (streams_of(lines) >= streams) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return lines;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// `n` connections to the tunnel opened together, then each PINGs from a
// thread of its own while all are open: the replies.
std::vector<std::string> concurrent_pings(std::uint16_t port, std::size_t n) {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (std::size_t i = 0; i < n; ++i) clients.push_back(std::make_unique<RawClient>(port));
    std::vector<std::string> replies(n);
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < n; ++i) threads.emplace_back([&, i] { replies[i] = clients[i]->ping(); });
    for (auto& t : threads) t.join();
    return replies;
}

TEST_CASE("multiplex e2e: 20 sequential and 10 concurrent redis connections ride one channel per tunnel loop" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    // Two loops in the tunnel: at most two channels, whatever the connections.
    const std::uint64_t loops = 2;
    Running r(on, on + "threads = " + std::to_string(loops) + "\n");
    Setup& s = r.s;
    for (int i = 0; i < 20; ++i) CHECK(cli(r.tunnel.port, "ping") == "PONG");
    for (const auto& reply : concurrent_pings(r.tunnel.port, 10)) CHECK(reply == "+PONG");

    auto lines = wait_audit(r.gate_audit(), 30);
    REQUIRE(lines.size() == 30);
    std::set<std::string> times;  // a stream's line has its own time, not its channel's
    for (const auto& line : lines) {
        times.insert(line.at("time").get<std::string>());
        CAPTURE(line.dump());
        CHECK(line.at("verdict") == "accepted");
        CHECK(line.value("multiplexed", false));
        CHECK(line.at("identity").at("key_fingerprint") == s.fingerprint("client"));
        CHECK(line.at("layers").back() == "public_key");
        CHECK(line.at("bytes_out").get<int>() > 0);
    }
    CHECK(times.size() > loops);
    auto tunnel_lines = wait_audit(r.tunnel_audit(), 30);
    REQUIRE(tunnel_lines.size() == 30);
    for (const auto& line : tunnel_lines) {
        CAPTURE(line.dump());
        CHECK(line.at("verdict") == "accepted");
        CHECK(line.value("multiplexed", false));
        CHECK(line.at("identity").at("key_fingerprint") == s.fingerprint("host"));
    }
    // The gate's Server accepted (and ran the chain for) channels, not connections.
    double channels_accepted = r.gate_metric("authchain_connections_accepted_total");
    CHECK(channels_accepted >= 1);
    CHECK(channels_accepted <= static_cast<double>(loops));
    CHECK(r.gate_metric("authchain_session_duration_seconds_count") == 30);  // one forward per stream

    // The channels end with the tunnel; each leaves one line, and their
    // streams account for every connection. Were each connection a channel
    // of its own, there would be 30 lines of 1 stream.
    REQUIRE(r.stop_tunnel() == 0);
    auto channels = wait_channels(r.gate_audit(), 30);
    CHECK(streams_of(channels) == 30);
    CHECK(channels.size() >= 1);
    CHECK(channels.size() <= loops);
    CHECK(static_cast<double>(channels.size()) == channels_accepted);
    for (const auto& c : channels) {
        CAPTURE(c.dump());
        CHECK(c.at("started") == true);
        CHECK(c.at("identity").at("key_fingerprint") == s.fingerprint("client"));
        CHECK(c.at("layers").back() == "public_key");
        CHECK(c.at("peer").get<std::string>().rfind("127.0.0.1:", 0) == 0);
        // The tunnel's graceful stop closes its channels with the close record.
        CHECK(c.at("end") == "end of stream");
        CHECK(c.at("duration_ms").is_number());
    }
    CHECK(r.gate_metric("authchain_multiplex_channels_total{result=\"started\"}") ==
          static_cast<double>(channels.size()));
    CHECK(r.stop_gate() == 0);
}

// VmRSS of a process in KiB (0 if unreadable).
long resident_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
    return 0;
}

TEST_CASE("multiplex e2e: a stream whose client never reads a 64 MiB reply is held back; the channel's other "
          "streams still flow" * doctest::skip(skip_without_redis())) {
    require_redis();
    constexpr long value_bytes = 64L << 20;
    // Growth allowed over the baseline. Measured: about 3 MiB; 14 MiB for the
    // tunnel under ASan, whose quarantine keeps the freed receive buffers of
    // what did pass (the sockets' buffers hold a few MiB). Without flow
    // control the tunnel would take in nearly the whole 64 MiB.
    constexpr long bound_kib = 24 * 1024;
    Running r(on, on + "threads = 1\n");  // one loop: every stream on one channel
    write_file(r.s.dir / "big.txt", std::string(static_cast<std::size_t>(value_bytes), 'x'));
    REQUIRE(trim(r.redis.cli("-x set big < " + q(r.s.dir / "big.txt"))) == "OK");
    REQUIRE(cli(r.tunnel.port, "ping") == "PONG");  // the channel is up
    const long gate_base = resident_kib(r.gate.gate->pid()), tunnel_base = resident_kib(r.tunnel->pid());
    REQUIRE(gate_base > 0);
    REQUIRE(tunnel_base > 0);

    RawClient stalled(r.tunnel.port);
    asio::write(stalled.socket, asio::buffer(std::string("GET big\r\n")));  // and never read
    long gate_most = gate_base, tunnel_most = tunnel_base;
    for (int i = 0; i < 20; ++i) {  // 2 s: far longer than 64 MiB takes on loopback
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        gate_most = std::max(gate_most, resident_kib(r.gate.gate->pid()));
        tunnel_most = std::max(tunnel_most, resident_kib(r.tunnel->pid()));
        if (i == 10) CHECK(cli(r.tunnel.port, "ping") == "PONG");  // the same channel, not blocked behind it
    }
    MESSAGE("gate RSS " << gate_base << " -> max " << gate_most << " KiB; tunnel RSS " << tunnel_base << " -> max "
                        << tunnel_most << " KiB");
    CHECK(gate_most - gate_base < bound_kib);
    CHECK(tunnel_most - tunnel_base < bound_kib);
    CHECK(r.gate_metric("authchain_connections_accepted_total") == 1);

    stalled.socket.close();
    auto lines = wait_audit(r.gate_audit(), 3);  // two pings and the stalled GET
    REQUIRE(lines.size() == 3);
    CAPTURE(lines[2].dump());
    CHECK(lines[2].at("bytes_out").get<long>() < value_bytes);  // held back: not all of it left the backend's side
    CHECK(cli(r.tunnel.port, "ping") == "PONG");  // the channel outlives a stream reset
    CHECK(r.stop_tunnel() == 0);
    CHECK(r.stop_gate() == 0);
}

// Under ASan this is also a leak check: LeakSanitizer makes the exit status
// non-zero when the open channel's frames are never freed.
TEST_CASE("multiplex e2e: the gate stops cleanly, exit 0, while a tunnel holds its channel open" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r(on, on + "threads = 1\n");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    CHECK(r.stop_gate() == 0);
    CHECK(cli(r.tunnel.port, "ping") != "PONG");  // the channel went with the gate, and so did the gate
    CHECK(r.stop_tunnel() == 0);
}

TEST_CASE("multiplex e2e: a tunnel whose key is not in authorized_keys gets no PONG; the gate audits the denial" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r(on, on + "threads = 1\n");
    Setup& s = r.s;
    auto stranger = s.tunnel(tunnel_config(s, "stranger", "stranger", on));
    int rc = 0;
    CHECK(cli(stranger.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    CHECK(cli(r.tunnel.port, "ping") == "PONG");  // the listed key still gets through

    auto lines = wait_audit(r.gate_audit(), 2);
    REQUIRE(lines.size() == 2);
    CAPTURE(lines[0].dump());
    CHECK(lines[0].at("verdict") == "denied");  // the channel, refused by its chain: no stream
    CHECK(lines[0].at("reason") == "denied");
    CHECK_FALSE(lines[0].contains("multiplexed"));
    CHECK(lines[1].at("verdict") == "accepted");
    CHECK(lines[1].value("multiplexed", false));
    auto denied = wait_audit(s.dir / "stranger-audit.log", 1);
    REQUIRE(denied.size() == 1);
    CHECK(denied[0].at("verdict") == "denied");
    CHECK(denied[0].value("multiplexed", false));
    CHECK(has(read_file(s.dir / "stranger.out"), "refused"));
    CHECK(r.gate_metric("authchain_connections_accepted_total") == 1);
    CHECK(r.stop_tunnel() == 0);
    CHECK(stranger->wait(std::chrono::milliseconds(0)) == std::nullopt);  // still running: a refusal is no failure
}

TEST_CASE("multiplex e2e: multiplex on the tunnel only: no PONG, the tunnel says multiplex must be on at both ends" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r("", on);
    int rc = 0;
    // Redis answers nothing to the tunnel's hello: the tunnel gives up after
    // handshake_timeout (5 s here).
    CHECK(cli(r.tunnel.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);

    auto tunnel_lines = wait_audit(r.tunnel_audit(), 1);
    REQUIRE(tunnel_lines.size() == 1);
    CAPTURE(tunnel_lines[0].dump());
    CHECK(tunnel_lines[0].at("verdict") == "error");
    CHECK(tunnel_lines[0].at("reason") == "server unavailable");
    CHECK(has(tunnel_lines[0].at("detail"), "multiplex must be on at both ends"));
    CHECK(tunnel_lines[0].value("multiplexed", false));
    CHECK(has(read_file(r.s.dir / "tunnel.out"), "multiplex must be on at both ends"));

    // The plain gate forwarded the channel as a connection: the backend got
    // the tunnel's hello (one frame, 16 bytes), then the end.
    auto gate_lines = wait_audit(r.gate_audit(), 1);
    REQUIRE(gate_lines.size() == 1);
    CAPTURE(gate_lines[0].dump());
    CHECK_FALSE(gate_lines[0].contains("multiplexed"));
    CHECK(gate_lines[0].at("bytes_in") == 16);
    CHECK(r.stop_tunnel() == 0);
    CHECK(r.stop_gate() == 0);
}

TEST_CASE("multiplex e2e: multiplex on the gate only: the channel is closed as not a multiplexing peer" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r(on, "");
    long before = r.redis.info("total_connections_received");  // counts this INFO's own connection
    int rc = 0;
    CHECK(cli(r.tunnel.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);

    auto channels = wait_audit(r.gate_audit(), 1, "channel");
    REQUIRE(channels.size() == 1);
    CAPTURE(channels[0].dump());
    CHECK(channels[0].at("started") == false);
    CHECK(channels[0].at("streams") == 0);
    CHECK(has(channels[0].at("end"), "not a multiplexing peer (multiplex must be on at both ends)"));
    CHECK(channels[0].at("identity").at("key_fingerprint") == r.s.fingerprint("client"));  // the chain passed
    CHECK(audit_lines(r.gate_audit()).empty());  // no stream, so no connection line
    CHECK(r.gate_metric("authchain_multiplex_channels_total{result=\"failed\"}") == 1);
    CHECK(r.redis.info("total_connections_received") == before + 1);  // only the second INFO: no backend connection
    CHECK(r.stop_tunnel() == 0);
    CHECK(r.stop_gate() == 0);
}

TEST_CASE("multiplex e2e: SIGHUP gives the tunnel a new channel; the old one closes once unused" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r(on, on + "threads = 1\n");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    r.tunnel->signal(SIGHUP);
    auto reloads = wait_audit(r.tunnel_audit(), 1, "reload");
    REQUIRE(reloads.size() == 1);
    CHECK(reloads[0].at("ok") == true);

    // No connection holds the old configuration: its channel is closed now.
    auto first = wait_channels(r.gate_audit(), 2);
    REQUIRE(first.size() == 1);
    CHECK(first[0].at("streams") == 2);
    CHECK(first[0].at("started") == true);
    CHECK(first[0].at("end") == "end of stream");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    REQUIRE(r.stop_tunnel() == 0);
    auto all = wait_channels(r.gate_audit(), 4);
    REQUIRE(all.size() == 2);
    CHECK(all[1].at("streams") == 2);
    CHECK(all[1].at("end") == "end of stream");
    CHECK(r.gate_metric("authchain_connections_accepted_total") == 2);
    CHECK(r.stop_gate() == 0);
}

}  // namespace multiplex_e2e_test

namespace multiplex_e2e_test {

TEST_CASE("multiplex e2e: a gate reload sends its channels a goaway: a key removed from authorized_keys opens "
          "no new stream" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r(on, on + "threads = 1\n");
    Setup& s = r.s;
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");  // the same channel

    write_file(s.dir / "authorized_keys", read_file(s.dir / "stranger.pub"), 0600);
    r.gate.gate->signal(SIGHUP);
    auto reloads = wait_audit(r.gate_audit(), 1, "reload");
    REQUIRE(reloads.size() == 1);
    CHECK(reloads[0].at("ok") == true);
    // The goaway reaches the tunnel, which closes that idle channel cleanly.
    auto closed = wait_channels(r.gate_audit(), 2);
    REQUIRE(closed.size() == 1);
    CHECK(closed[0].at("streams") == 2);
    CHECK(closed[0].at("end") == "end of stream");

    // The next connection needs a new channel, and the new chain refuses it.
    int rc = 0;
    CHECK(cli(r.tunnel.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    auto lines = wait_audit(r.gate_audit(), 3);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].value("multiplexed", false));
    CHECK(lines[1].value("multiplexed", false));
    CHECK(lines[2].at("verdict") == "denied");
    CHECK(r.gate_metric("authchain_connections_accepted_total") == 1);
    CHECK(r.stop_tunnel() == 0);
    CHECK(r.stop_gate() == 0);
}

}  // namespace multiplex_e2e_test
