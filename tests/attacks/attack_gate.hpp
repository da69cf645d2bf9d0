// The target of every attack case: a real `authchain gate` process, chain
// ip_filter | failure_throttle | secure_channel | public_key, listening
// dual-stack on [::]:0 in front of a real redis-server (Unix socket), and a
// real `authchain tunnel` for the legitimate client, who comes from
// 127.0.0.1 while attacks come from 127.0.0.2.. and ::1.
//
// Two things are asserted per case: the attack fails and never reaches the
// backend (redis counts its connections: backend_connections()), and the
// legitimate client still gets through while the attack runs (legit_ping():
// redis-cli PING through the tunnel, within the tunnel's handshake deadline).
#pragma once

#include <future>

#include "tests/attacks/attack_table.hpp"
#include "tests/tools/gate_fixture.hpp"
#include <authchain/transport/endpoint.hpp>

namespace attacks {
namespace {  // as gate_fixture.hpp, whose types it uses

using namespace authchain;
using namespace authchain::test;
using namespace authchain::test::e2e;

// Attack sources: IPv4 addresses of loopback other than the legitimate
// client's, and IPv6 loopback (the gate listens dual-stack).
inline const std::vector<std::string>& attack_sources() {
    static const std::vector<std::string> s{"127.0.0.2", "::1"};
    return s;
}

struct GateOptions {
    std::string backend;                // empty: the redis-server
    std::string top;                    // extra top-level lines
    std::string throttle = "max_failures = 1000\n";  // the failure_throttle's keys
    std::string public_key_extra;       // extra keys of the public_key layer
    std::string after;                  // text after the chain ([[allow]] rules)
    std::string handshake_timeout = "3s";
    std::vector<std::string> env;                // NAME=VALUE for the gate process
    std::function<void(Setup&)> prepare;         // before the gate starts (keys, files)
};

// One setup: keys (host, client, stranger), redis, the gate and a tunnel.
struct AttackGate {
    Setup s;
    Redis redis{s.dir.path()};
    Daemon gate;
    std::optional<Daemon> tunnel;
    long info_calls = 0;
    long legit_pings = 0;
    long baseline = redis.info("total_connections_received");  // redis's start-up check, this INFO

    explicit AttackGate(const GateOptions& o = {}, bool with_tunnel = true) {
        if (o.prepare) o.prepare(s);
        write_config(o);
        gate = start_gate(o.env);
        if (with_tunnel) tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    }

    std::filesystem::path config() const { return s.dir / "gate.toml"; }

    void write_config(const GateOptions& o) {
        std::string text = "listen = \"[::]:0\"\n"
                           "backend = \"" + (o.backend.empty() ? redis.backend() : o.backend) + "\"\n"
                           "audit_log = \"gate-audit.log\"\n"
                           "handshake_timeout = \"" + o.handshake_timeout + "\"\n" + o.top +
                           "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.0/8\", \"::1\"]\n"
                           "[[layer]]\nkind = \"failure_throttle\"\n" + o.throttle +
                           "[[layer]]\nkind = \"secure_channel\"\n"
                           "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                           "authorized_keys = \"authorized_keys\"\n" + o.public_key_extra + o.after;
        write_file(config(), text);
    }

    // Starts `env ENV... authchain gate` on the config; records the port and
    // writes the tunnel's known_hosts for it.
    Daemon start_gate(const std::vector<std::string>& env = {}) {
        Daemon d;
        std::vector<std::string> argv{"env"};
        argv.insert(argv.end(), env.begin(), env.end());
        argv.insert(argv.end(), {s.bin, "gate", "--config", config().string()});
        d.process = std::make_unique<Process>(argv, s.dir / "gate.out");
        d.port = wait_port(*d.process, s.dir / "gate.out", "authchain gate: listening on [::]:");
        s.gate_port = d.port;
        std::istringstream pub(read_file(s.dir / "host.pub"));
        std::string type, blob;
        pub >> type >> blob;
        write_file(s.dir / "known_hosts", "[127.0.0.1]:" + std::to_string(d.port) + " " + type + " " + blob + "\n",
                   0600);
        return d;
    }

    // Connections redis received from anyone but these INFO queries.
    long backend_connections() {
        ++info_calls;
        return redis.info("total_connections_received") - baseline - info_calls;
    }
    // Connections that were not the legitimate client's: must stay 0.
    long attacker_backend_connections() { return backend_connections() - legit_pings; }

    // The legitimate client: redis-cli PING through the tunnel.
    bool legit_ping(std::uint16_t tunnel_port = 0) {
        ++legit_pings;
        return cli(tunnel_port ? tunnel_port : tunnel->port, "ping") == "PONG";
    }

    // A tunnel named `name` (config NAME.toml, audit NAME-audit.log) that
    // dials 127.0.0.1:`port` (a man in the middle, an impostor) as if it
    // were the gate; its known_hosts gets the real host key for that port.
    Daemon tunnel_to(std::uint16_t port, const std::string& name, const std::string& identity = "client") {
        std::uint16_t gate_port = s.gate_port;
        s.gate_port = port;
        auto config = s.tunnel_config(name, identity);
        s.gate_port = gate_port;
        std::istringstream pub(read_file(s.dir / "host.pub"));
        std::string type, blob;
        pub >> type >> blob;
        std::ofstream(s.dir / "known_hosts", std::ios::app)
            << "[127.0.0.1]:" << port << " " << type << " " << blob << "\n";
        return s.tunnel(config);
    }

    // A tunnel that dials the gate over IPv6 ([::1]:port), so its attempts
    // come from ::1; config NAME.toml, audit NAME-audit.log.
    Daemon tunnel_v6(const std::string& name, const std::string& identity) {
        const std::string server = "[::1]:" + std::to_string(gate.port);
        write_file(s.dir / (name + ".toml"), "listen = \"127.0.0.1:0\"\nserver = \"" + server + "\"\n" +
                                                 "audit_log = \"" + name + "-audit.log\"\nhandshake_timeout = \"5s\"\n"
                                                 "[[layer]]\nkind = \"secure_channel\"\n"
                                                 "[[layer]]\nkind = \"public_key\"\nidentity = \"" + identity + "\"\n"
                                                 "known_hosts = \"known_hosts\"\n");
        std::istringstream pub(read_file(s.dir / "host.pub"));
        std::string type, blob;
        pub >> type >> blob;
        std::ofstream(s.dir / "known_hosts", std::ios::app) << server << " " << type << " " << blob << "\n";
        return s.tunnel(s.dir / (name + ".toml"));
    }
    // The last audit line of tunnel `name`: "verdict (reason)".
    std::string tunnel_verdict(const std::string& name) {
        auto lines = wait_audit(s.dir / (name + "-audit.log"), 1);
        if (lines.empty()) return "no audit line";
        return lines.back().value("verdict", "?") + " (" + lines.back().value("reason", "") + ")";
    }

    std::filesystem::path audit() const { return s.dir / "gate-audit.log"; }
    // The gate's connection lines, once there are `n` (bounded wait).
    std::vector<json> audit_connections(std::size_t n) const { return wait_audit(audit(), n); }
    std::string gate_output() const { return read_file(s.dir / "gate.out"); }
};

// Whether an audit "peer" is the connection from `local` (an IPv4 source
// may be written as such or IPv4-mapped, the gate listening on [::]).
inline bool is_peer(const std::string& peer, const asio::ip::tcp::endpoint& local) {
    const std::string port = ":" + std::to_string(local.port());
    const std::string a = local.address().to_string();
    return peer == endpoint_text(local) || peer == "[::ffff:" + a + "]" + port;
}

// The connection line the gate wrote for the attack connection from
// `local` (bounded wait), or an empty object.
inline json audit_line_for(const std::filesystem::path& audit, const asio::ip::tcp::endpoint& local) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
        if (std::filesystem::exists(audit))
            for (const auto& j : audit_lines(audit))
                if (is_peer(j.value("peer", ""), local)) return j;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return json::object();
}

// The audit lines of connections from `source` (an address, any port).
inline std::vector<json> audit_lines_from(const std::filesystem::path& audit, const std::string& source) {
    std::vector<json> out;
    if (!std::filesystem::exists(audit)) return out;
    const bool v6 = source.find(':') != std::string::npos;
    const std::string prefix = v6 ? "[" + source + "]:" : source + ":", mapped = "[::ffff:" + source + "]:";
    for (auto& j : audit_lines(audit)) {
        const std::string peer = j.value("peer", "");
        if (peer.rfind(prefix, 0) == 0 || (!v6 && peer.rfind(mapped, 0) == 0)) out.push_back(std::move(j));
    }
    return out;
}

// Runs `make(executor)` on its own thread and io_context (test::run, bounded
// by `limit`), so the legitimate client can be tried while it runs.
template <class Make>
auto in_background(Make make, std::chrono::seconds limit = std::chrono::seconds(40)) {
    return std::async(std::launch::async, [make, limit] { return test::run(make, limit); });
}

inline std::string yes_no(bool b) { return b ? "yes" : "NO"; }

// The i-th IPv4 attack source of a case that wants one address per attempt:
// 127.0.0.10, 127.0.0.11, ... (the legitimate client is 127.0.0.1).
inline std::string v4_source(std::size_t i) { return "127.0.0." + std::to_string(10 + i % 240); }

// "reason" of an audit line, "accepted", or "no audit line".
inline std::string audit_reason(const json& line) {
    if (line.empty()) return "no audit line";
    if (line.value("verdict", "") == "accepted") return "accepted";
    return line.value("reason", "?");
}

}  // namespace
}  // namespace attacks
