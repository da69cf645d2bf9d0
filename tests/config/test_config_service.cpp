// The process keys of gate and tunnel files: log_level, metrics_listen,
// idle_timeout, keepalive, socket_activation, threads, and trusted PROXY v2 in.
#include "tests/config/config_fixture.hpp"

TEST_CASE("service keys: defaults are off (no metrics, no idle timeout, no keepalive, no PROXY in)") {
    test::TempDir dir;
    GateConfig c = load_gate_config(config_file(dir, minimal_gate));
    CHECK(c.log_level == "info");
    CHECK_FALSE(c.metrics_listen);
    CHECK(c.idle_timeout == 0ms);
    CHECK(c.keepalive == 0ms);
    CHECK_FALSE(c.socket_activation);
    CHECK(c.proxy_protocol_from.empty());
    CHECK_FALSE(c.proxy_protocol_optional_from_others);
}

TEST_CASE("service keys: every one parses, in gate and tunnel files") {
    test::TempDir dir;
    const std::string keys = "log_level = \"debug\"\nmetrics_listen = \":9464\"\nidle_timeout = \"5m\"\n"
                             "keepalive = \"60s\"\n";
    GateConfig g = load_gate_config(config_file(
        dir, minimal_gate + keys + "proxy_protocol_from = [\"10.0.0.5/32\", \"2001:db8::/64\"]\n"
                                   "proxy_protocol_optional_from_others = true\n"));
    CHECK(g.log_level == "debug");
    REQUIRE(g.metrics_listen);
    CHECK(g.metrics_listen->to_string() == "127.0.0.1:9464");  // loopback unless told
    CHECK(g.idle_timeout == 5min);
    CHECK(g.keepalive == 60s);
    CHECK(g.proxy_protocol_from == std::vector<std::string>{"10.0.0.5/32", "2001:db8::/64"});
    CHECK(g.proxy_protocol_optional_from_others);
    TunnelConfig t = load_tunnel_config(config_file(dir, "server = \"h:1\"\nlisten = \":7001\"\n" + keys,
                                                    "tunnel.toml"),
                                        TunnelCommand::tunnel);
    CHECK(t.idle_timeout == 5min);
    CHECK(t.metrics_listen);
}

TEST_CASE("service keys: socket_activation = true makes listen optional") {
    test::TempDir dir;
    GateConfig g = load_gate_config(config_file(dir, "socket_activation = true\nbackend = \"h:1\"\n"));
    CHECK(g.socket_activation);
    TunnelConfig t = load_tunnel_config(
        config_file(dir, "socket_activation = true\nserver = \"h:1\"\n", "tunnel.toml"), TunnelCommand::tunnel);
    CHECK(t.socket_activation);
    CHECK(gate_error("backend = \"h:1\"\n").find("listen: missing required key") != std::string::npos);
}

TEST_CASE("service keys: errors name file:line:key") {
    CHECK(gate_error(minimal_gate + "log_level = \"loud\"\n").find("gate.toml:3: log_level: expected \"error\"") !=
          std::string::npos);
    CHECK(gate_error(minimal_gate + "proxy_protocol_from = [\"10.0.0.1/8\"]\n")
              .find("gate.toml:3: proxy_protocol_from:") != std::string::npos);
    CHECK(gate_error(minimal_gate + "proxy_protocol_from = []\n").find("empty list") != std::string::npos);
    CHECK(gate_error(minimal_gate + "proxy_protocol_optional_from_others = true\n")
              .find("proxy_protocol_optional_from_others: needs proxy_protocol_from") != std::string::npos);
    CHECK(gate_error(minimal_gate + "keepalive = \"500ms\"\n").find("keepalive: at least") != std::string::npos);
    CHECK(gate_error(minimal_gate + "metrics_listen = \"unix:/run/m.sock\"\n").find("gate.toml:3: metrics_listen:") !=
          std::string::npos);
    CHECK(gate_error(minimal_gate + "idle_timeout = \"soon\"\n").find("gate.toml:3: idle_timeout:") !=
          std::string::npos);
    // PROXY in is the gate's: a tunnel's clients are local programs.
    CHECK(tunnel_error("server = \"h:1\"\nproxy_protocol_from = [\"10.0.0.5\"]\n")
              .find("tunnel.toml:2: proxy_protocol_from: unknown key") != std::string::npos);
}

TEST_CASE("service keys: threads is 1 to 1024 event loops; left out, one per core (0)") {
    test::TempDir dir;
    CHECK(load_gate_config(config_file(dir, minimal_gate)).threads == 0);
    CHECK(load_gate_config(config_file(dir, minimal_gate + "threads = 3\n")).threads == 3);
    TunnelConfig t = load_tunnel_config(config_file(dir, "server = \"h:1\"\nlisten = \":7001\"\nthreads = 1024\n",
                                                    "tunnel.toml"),
                                        TunnelCommand::tunnel);
    CHECK(t.threads == 1024);
    CHECK(gate_error(minimal_gate + "threads = 0\n").find("gate.toml:3: threads:") != std::string::npos);
    CHECK(gate_error(minimal_gate + "threads = 1025\n").find("gate.toml:3: threads:") != std::string::npos);
    CHECK(gate_error(minimal_gate + "threads = \"4\"\n").find("gate.toml:3: threads:") != std::string::npos);
}
