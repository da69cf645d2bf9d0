// Shared by the TLS interop tests: a private directory, `authchain ca`
// certificates, a redis-server behind an authchain TLS gate, and the real
// openssl and stunnel4 as the other side.
#pragma once

#include <doctest/doctest.h>

#include "tests/support/prerequisites.hpp"
#include "tests/tools/e2e_support.hpp"

namespace authchain::tls_interop {

using namespace authchain::test;
using namespace authchain::test::e2e;

inline std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

inline const std::vector<std::string>& tools() {
    static const std::vector<std::string> t{"openssl", "stunnel4", "redis-server"};
    return t;
}

// A started gate: the process (stopped by PID) and the port it printed.
struct Daemon {
    std::unique_ptr<Process> process;
    std::uint16_t port = 0;
};

struct Setup {
    TempDir dir;
    std::string bin = authchain_binary();

    // `command` in the directory; REQUIREs exit status 0; returns the output.
    std::string run(const std::string& command) {
        std::string out;
        int rc = shell("cd " + q(dir.path()) + " && " + command + " 2>&1", &out);
        REQUIRE_MESSAGE(rc == 0, command << ": " << out);
        return out;
    }
    int try_run(const std::string& command, std::string* out) {
        return shell("cd " + q(dir.path()) + " && " + command + " 2>&1", out);
    }
    // ca/ca.crt, ca/server.example.{crt,key}, ca/alice.{crt,key}.
    void make_ca() {
        run(bin + " ca init ca --name 'interop CA'");
        run(bin + " ca issue ca --name server.example --server --dns server.example --ip 127.0.0.1");
        run(bin + " ca issue ca --name alice --client");
    }
    // A gate in front of `redis` with one tls layer of `layer_keys`.
    Daemon gate(const Redis& redis, const std::string& layer_keys) {
        write_file(dir / "gate.toml", "listen = \"127.0.0.1:0\"\nbackend = \"" + redis.backend() +
                                          "\"\naudit_log = \"gate-audit.log\"\nhandshake_timeout = \"5s\"\n"
                                          "[[layer]]\nkind = \"tls\"\n" + layer_keys);
        Daemon d;
        d.process = std::make_unique<Process>(
            std::vector<std::string>{bin, "gate", "--config", (dir / "gate.toml").string()}, dir / "gate.out");
        d.port = wait_port(*d.process, dir / "gate.out", "authchain gate: listening on 127.0.0.1:");
        return d;
    }
    // `authchain probe` with a tls layer of `layer_keys` against `port`;
    // returns its exit status, output in *out.
    int probe(std::uint16_t port, const std::string& layer_keys, std::string* out) {
        write_file(dir / "probe.toml", "server = \"127.0.0.1:" + std::to_string(port) +
                                           "\"\nhandshake_timeout = \"5s\"\n[[layer]]\nkind = \"tls\"\n" + layer_keys);
        return try_run("timeout 20 " + bin + " probe --config probe.toml", out);
    }
};

// Polls (bounded: 500 polls, 10 s) until `file` contains `text`.
inline bool file_gets(const std::filesystem::path& file, const std::string& text) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
        if (std::filesystem::exists(file) && read_file(file).find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

inline const std::string gate_keys = "cert = \"ca/server.example.crt\"\nkey = \"ca/server.example.key\"\nca = \"ca/ca.crt\"\n";
inline const std::string client_keys =
    "cert = \"ca/alice.crt\"\nkey = \"ca/alice.key\"\nca = \"ca/ca.crt\"\nserver_name = \"server.example\"\n";

}  // namespace authchain::tls_interop
