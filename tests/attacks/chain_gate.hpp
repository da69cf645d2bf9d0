// A real `authchain gate` with a chain of the case's choosing (AttackGate's
// chain is fixed: ip_filter | failure_throttle | secure_channel |
// public_key), listening dual-stack on [::]:0 in front of a real
// redis-server, and real tunnels with chains of their own for the
// legitimate client. The same two assertions as attack_gate.hpp: the
// backend counts its connections (attacker_backend_connections() must stay
// 0) and the legitimate client gets through (legit_ping()).
#pragma once

#include "tests/attacks/attack_gate.hpp"

namespace attacks {
namespace {  // as gate_fixture.hpp, whose types it uses

struct ChainGate {
    Setup s;
    Redis redis{s.dir.path()};
    Daemon gate;
    long info_calls = 0;
    long legit_pings = 0;
    long expected_other = 0;  // backend connections a case made on purpose (a recorded legitimate session)
    long baseline = redis.info("total_connections_received");

    std::filesystem::path config() const { return s.dir / "gate.toml"; }
    std::filesystem::path audit() const { return s.dir / "gate-audit.log"; }

    // Writes gate.toml (listen [::]:0, the redis backend, gate-audit.log,
    // `handshake_timeout`, then `top` lines and the `layers` tables) and
    // starts the gate; the port is read back from its first line.
    void start(const std::string& top, const std::string& layers, const std::string& handshake_timeout = "10s") {
        write_file(config(), "listen = \"[::]:0\"\nbackend = \"" + redis.backend() +
                                 "\"\naudit_log = \"gate-audit.log\"\nhandshake_timeout = \"" + handshake_timeout +
                                 "\"\n" + top + layers);
        gate.process = std::make_unique<Process>(
            std::vector<std::string>{s.bin, "gate", "--config", config().string()}, s.dir / "gate.out");
        gate.port = wait_port(*gate.process, s.dir / "gate.out", "authchain gate: listening on [::]:");
        s.gate_port = gate.port;
    }

    // "[HOST]:PORT" (IPv6) or "HOST:PORT" of the gate.
    std::string server(const std::string& host) const {
        const bool v6 = host.find(':') != std::string::npos;
        return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(gate.port);
    }

    // Adds the gate's host key to known_hosts for `host` (what a public_key tunnel checks).
    void know_host(const std::string& host) {
        std::istringstream pub(read_file(s.dir / "host.pub"));
        std::string type, blob;
        pub >> type >> blob;
        std::ofstream(s.dir / "known_hosts", std::ios::app)
            << "[" << host << "]:" << gate.port << " " << type << " " << blob << "\n";
    }

    // A tunnel named `name` (NAME.toml, NAME-audit.log, NAME.out) that dials
    // the gate at `host` with the `layers` tables as its chain.
    Daemon tunnel(const std::string& name, const std::string& host, const std::string& layers) {
        write_file(s.dir / (name + ".toml"), "listen = \"127.0.0.1:0\"\nserver = \"" + server(host) +
                                                 "\"\naudit_log = \"" + name +
                                                 "-audit.log\"\nhandshake_timeout = \"5s\"\n" + layers);
        return s.tunnel(s.dir / (name + ".toml"));
    }

    // Connections redis received from anyone but these INFO queries.
    long backend_connections() {
        ++info_calls;
        return redis.info("total_connections_received") - baseline - info_calls;
    }
    // Connections that were neither the legitimate client's nor made on purpose: must stay 0.
    long attacker_backend_connections() { return backend_connections() - legit_pings - expected_other; }

    // The legitimate client: redis-cli PING through the tunnel listening on `port`.
    bool legit_ping(std::uint16_t port) {
        ++legit_pings;
        return cli(port, "ping") == "PONG";
    }
};

// The audit lines of the gate's connections from `source`, once there are
// at least `n` (bounded wait: 10 s).
inline std::vector<json> wait_audit_from(const std::filesystem::path& audit, const std::string& source, std::size_t n) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::vector<json> lines;
    for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
        lines = audit_lines_from(audit, source);
        if (lines.size() >= n) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return lines;
}

// "verdict (reason): detail" of an audit line, or "no audit line".
inline std::string audit_summary(const json& line) {
    if (line.empty()) return "no audit line";
    std::string out = line.value("verdict", "?");
    if (line.contains("reason")) out += " (" + line.value("reason", "") + ")";
    if (line.contains("detail")) out += ": " + line.value("detail", "");
    return out;
}

}  // namespace
}  // namespace attacks
