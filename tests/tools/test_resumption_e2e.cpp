// End to end with real processes and redis-server: a gate and a tunnel
// with a resumption layer before public_key. The first connection runs
// public_key and earns a ticket, the next ones resume; SIGHUP forgets the
// tickets, so a key removed from authorized_keys stops at the next connection.
//
//   redis-cli -> tunnel (secure_channel | resumption | public_key) -> gate (same) -> redis
#include "tests/tools/gate_fixture.hpp"
#include "tests/tools/service_support.hpp"

namespace resumption_e2e {

const std::string gate_layers = "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.1/32\"]\n"
                                "[[layer]]\nkind = \"secure_channel\"\n"
                                "[[layer]]\nkind = \"resumption\"\nlifetime = \"60s\"\n"
                                "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                                "authorized_keys = \"authorized_keys\"\n";

std::filesystem::path tunnel_config(Setup& s, const std::string& name, const std::string& identity) {
    return s.tunnel_config_with(name, "[[layer]]\nkind = \"secure_channel\"\n"
                                      "[[layer]]\nkind = \"resumption\"\n"
                                      "[[layer]]\nkind = \"public_key\"\nidentity = \"" + identity + "\"\n"
                                      "known_hosts = \"known_hosts\"\n");
}

bool audit_resumed(const nlohmann::json& line) { return line.value("resumed", false); }

// redis, a gate with resumption in front of it (and its metrics), and alice's tunnel to it.
struct Running {
    Setup s;
    Redis redis{s.dir.path()};
    MeteredGate gate = metered_gate(s, s.gate_config(redis.backend(), "metrics_listen = \"127.0.0.1:0\"\n", gate_layers));
    Daemon tunnel = s.tunnel(tunnel_config(s, "tunnel", "client"));
};


TEST_CASE("resumption e2e: one full handshake, then resumed connections; a stranger is still denied" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r;
    Setup& s = r.s;
    auto stranger = s.tunnel(tunnel_config(s, "stranger", "stranger"));
    for (int i = 0; i < 3; ++i) CHECK(cli(r.tunnel.port, "ping") == "PONG");
    int rc = 0;
    CHECK(cli(stranger.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);

    auto lines = wait_audit(s.dir / "gate-audit.log", 4);
    REQUIRE(lines.size() == 4);
    for (int i = 0; i < 3; ++i) {
        CAPTURE(lines[i].dump());
        CHECK(lines[i].at("verdict") == "accepted");
        CHECK(lines[i].at("identity").at("key_fingerprint") == s.fingerprint("client"));
        CHECK(audit_resumed(lines[i]) == (i > 0));
    }
    CHECK(lines[3].at("verdict") == "denied");
    CHECK_FALSE(audit_resumed(lines[3]));
    auto tunnel_lines = wait_audit(s.dir / "tunnel-audit.log", 3);
    REQUIRE(tunnel_lines.size() == 3);
    CHECK(audit_resumed(tunnel_lines[2]));
    CHECK(tunnel_lines[2].at("identity").at("key_fingerprint") == s.fingerprint("host"));
    auto metrics = scrape(r.gate.metrics_port);
    CHECK(sample(metrics, "authchain_connections_accepted_total") == 3);
    CHECK(sample(metrics, "authchain_connections_resumed_total") == 2);
}

TEST_CASE("resumption e2e: SIGHUP forgets every ticket: a removed key stops at the next connection" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Running r;
    Setup& s = r.s;
    CHECK(cli(r.tunnel.port, "ping") == "PONG");
    CHECK(cli(r.tunnel.port, "ping") == "PONG");  // resumed

    write_file(s.dir / "authorized_keys", read_file(s.dir / "stranger.pub"), 0600);
    r.gate.gate->signal(SIGHUP);
    auto reloads = wait_audit(s.dir / "gate-audit.log", 1, "reload");
    REQUIRE(reloads.size() == 1);
    CHECK(reloads[0].at("ok") == true);
    int rc = 0;
    CHECK(cli(r.tunnel.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    auto lines = wait_audit(s.dir / "gate-audit.log", 3);
    REQUIRE(lines.size() == 3);
    CHECK(audit_resumed(lines[1]));
    CHECK(lines[2].at("verdict") == "denied");
    CHECK_FALSE(audit_resumed(lines[2]));
}

}  // namespace resumption_e2e
