// End to end, docs/scale-out.md for real: HAProxy on loopback in front of
// two gates (send-proxy-v2, health checks), redis-server behind both.
//
//   redis-cli -> tunnel -> haproxy -> gate a | gate b -> redis-server
#include "tests/tools/service_support.hpp"

namespace {

std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
    return probe.local_endpoint().port();
}

// Accepted connection lines in a gate's audit log.
std::size_t accepted_in(const std::filesystem::path& log) {
    if (!std::filesystem::exists(log)) return 0;
    auto lines = audit_lines(log);
    return static_cast<std::size_t>(
        std::count_if(lines.begin(), lines.end(), [](const json& l) { return l.at("verdict") == "accepted"; }));
}

}  // namespace

TEST_CASE("scale-out: two gates behind haproxy; real client addresses; one gate SIGKILLed under load" *
          doctest::skip(skip_without_redis()) * doctest::timeout(240)) {
    require_redis();
    require_tools({"haproxy"});
    Setup s;
    Redis redis(s.dir.path());
    // Two gates: the same key files, each its own audit log, both trusting haproxy's address.
    std::vector<Daemon> gates;
    std::vector<std::uint16_t> gate_ports;
    for (std::string name : {"a", "b"}) {
        std::string text = read_file(s.gate_config(redis.backend(), "proxy_protocol_from = [\"127.0.0.1/32\"]\n"));
        auto at = text.find("gate-audit.log");
        text.replace(at, 14, "gate-" + name + "-audit.log");
        write_file(s.dir / ("gate-" + name + ".toml"), text);
        gates.push_back(s.start("gate", s.dir / ("gate-" + name + ".toml"), "gate-" + name + ".out"));
        gate_ports.push_back(gates.back().port);
    }
    for (std::string name : {"a", "b"})
        CHECK(wait_audit(s.dir / ("gate-" + name + "-audit.log"), 1, "start").size() == 1);
    std::uint16_t front = free_port();
    write_file(s.dir / "haproxy.cfg",
               "global\n  maxconn 1000\n"
               "defaults\n  mode tcp\n  timeout connect 2s\n  timeout client 30s\n  timeout server 30s\n"
               "  retries 3\n  option redispatch\n"
               "frontend authchain\n  bind 127.0.0.1:" + std::to_string(front) + "\n  default_backend gates\n"
               "backend gates\n  balance roundrobin\n"
               "  server a 127.0.0.1:" + std::to_string(gate_ports[0]) +
               " send-proxy-v2 check inter 200ms fall 1 rise 2\n"
               "  server b 127.0.0.1:" + std::to_string(gate_ports[1]) +
               " send-proxy-v2 check inter 200ms fall 1 rise 2\n");
    Process haproxy({"haproxy", "-db", "-f", (s.dir / "haproxy.cfg").string()}, s.dir / "haproxy.out");
    bool up = false;
    for (int i = 0; i < 500 && !up; ++i) {
        up = accepts(front);
        if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE_MESSAGE(up, read_file(s.dir / "haproxy.out"));
    // Clients know one server: haproxy's address, with the gates' shared host key.
    std::istringstream pub(read_file(s.dir / "host.pub"));
    std::string type, blob;
    pub >> type >> blob;
    write_file(s.dir / "known_hosts", "[127.0.0.1]:" + std::to_string(front) + " " + type + " " + blob + "\n", 0600);
    s.gate_port = front;
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    long redis_before = redis.info("total_connections_received");

    // A probe through haproxy: the gate proves itself with the shared host key.
    std::string out;
    CHECK(shell("timeout 20 " + s.bin + " probe --config " + q(s.dir / "tunnel.toml"), &out) == 0);
    CHECK(out.find("ok") != std::string::npos);

    // A client from 127.0.0.2, behind haproxy: the gates' ip_filter (127.0.0.1/32) refuses it by its own address.
    {
        asio::io_context io;
        asio::ip::tcp::socket c(io);
        c.open(asio::ip::tcp::v4());
        c.bind({asio::ip::make_address("127.0.0.2"), 0});
        c.connect({asio::ip::make_address("127.0.0.1"), front});
        asio::write(c, asio::buffer(std::string("hello")));
        std::array<char, 64> buf{};
        std::error_code ec;
        c.read_some(asio::buffer(buf), ec);  // the gate closes it (haproxy passes the close on)
    }
    bool blocked = false;
    for (int i = 0; i < 500 && !blocked; ++i) {
        for (std::string name : {"a", "b"}) {
            auto log = s.dir / ("gate-" + name + "-audit.log");
            if (!std::filesystem::exists(log)) continue;
            for (const auto& l : audit_lines(log))
                if (l.value("reason", "") == "host blocked" &&
                    l.at("peer").get<std::string>().rfind("127.0.0.2:", 0) == 0 &&
                    l.at("via").get<std::string>().rfind("127.0.0.1:", 0) == 0)
                    blocked = true;
        }
        if (!blocked) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(blocked);

    // A load of short connections; gate a is SIGKILLed a third of the way in.
    const int total = 45, kill_at = 15;
    int ok = 0, failed = 0, ok_after_kill = 0;
    for (int i = 0; i < total; ++i) {
        if (i == kill_at) {
            // Every session so far is written (an accepted line is written at close), then the kill.
            for (int k = 0; k < 500 && accepted_in(s.dir / "gate-a-audit.log") +
                                               accepted_in(s.dir / "gate-b-audit.log") < std::size_t(ok + 1);
                 ++k)
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            gates[0]->signal(SIGKILL);
            CHECK(gates[0]->wait(std::chrono::seconds(10)) == std::optional<int>(-SIGKILL));
        }
        bool pong = cli(tunnel.port, "ping") == "PONG";
        (pong ? ok : failed) += 1;
        if (pong && i >= kill_at) ++ok_after_kill;
    }
    CHECK(failed == 0);  // haproxy re-dispatches a refused connect to the live gate
    CHECK(ok_after_kill == total - kill_at);
    std::size_t accepted = 0;
    for (int k = 0; k < 500; ++k) {
        accepted = accepted_in(s.dir / "gate-a-audit.log") + accepted_in(s.dir / "gate-b-audit.log");
        if (accepted >= std::size_t(ok + 1)) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    // probe (1) + pings: every one accepted and written by one of the gates...
    CHECK(accepted == std::size_t(ok + 1));
    CHECK(accepted_in(s.dir / "gate-a-audit.log") > 0);
    CHECK(accepted_in(s.dir / "gate-b-audit.log") > 0);
    // ...and nothing else reached the backend: the probe does not reach
    // redis (the gate connects the backend after the chain: the probe's
    // session gets a backend connection too), the refused client does not.
    // (+1: the INFO asking counts its own connection.)
    CHECK(redis.info("total_connections_received") - redis_before == static_cast<long>(accepted) + 1);
}
