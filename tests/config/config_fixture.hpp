// Shared by the tools/config tests: config files in a temporary directory,
// the ConfigError they raise, and running the chain a config builds.
#pragma once

#include <doctest/doctest.h>

#include <string>

#include <authchain/auth/openssh/keyfile.hpp>
#include "tests/support/run.hpp"
#include "config/config.hpp"
#include "config/registry.hpp"
#include "config/values.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace authchain::config;
using namespace std::chrono_literals;

namespace config_fixture {

// Writes `text` as DIR/name and returns the path.
inline std::filesystem::path config_file(const test::TempDir& dir, const std::string& text,
                                  const std::string& name = "gate.toml") {
    test::write_file(dir / name, text);
    return dir / name;
}

inline std::string gate_error(const std::string& text) {
    test::TempDir dir;
    try {
        (void)load_gate_config(config_file(dir, text));
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for:\n" << text);
    return {};
}

inline std::string tunnel_error(const std::string& text) {
    test::TempDir dir;
    try {
        (void)load_tunnel_config(config_file(dir, text, "tunnel.toml"));
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for:\n" << text);
    return {};
}

// Runs `chain` on the server end of a pipe whose client is 127.0.0.1:40000.
// Returns the layers passed, or the refusal.
struct Outcome {
    std::vector<std::string> layers;
    std::optional<DenyReason> refused;
};

inline Outcome outcome(const Authenticator& chain) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<Outcome> {
        auto [client, server] = make_pipe(ex);
        try {
            Session out = co_await chain(start_session(std::move(server)));
            co_return Outcome{out.credentials.layers(), std::nullopt};
        } catch (const AuthenticationError& e) {
            co_return Outcome{{}, e.reason()};
        }
    });
}

inline std::vector<std::string> run_chain(const Authenticator& chain) {
    auto o = outcome(chain);
    CHECK_FALSE(o.refused);
    return o.layers;
}

inline DenyReason refusal(const Authenticator& chain) {
    auto o = outcome(chain);
    REQUIRE(o.refused);
    return *o.refused;
}

inline const std::string minimal_gate = "listen = \"127.0.0.1:7000\"\nbackend = \"127.0.0.1:8000\"\n";

// A host key and two user keys (alice, bob), authorized_keys listing alice,
// known_hosts naming the host as [127.0.0.1]:7000; and configs written next
// to them: a gate on 127.0.0.1:7000 in front of 127.0.0.1:8000, a tunnel to it.
struct KeyFiles {
    test::TempDir dir;
    KeyFiles() {
        openssh::write_keypair(dir / "host", "host", std::nullopt);
        openssh::write_keypair(dir / "alice", "alice@test", std::nullopt);
        openssh::write_keypair(dir / "bob", "bob@test", std::nullopt);
        test::write_file(dir / "authorized_keys", test::read_file(dir / "alice.pub"));
        test::write_file(dir / "known_hosts", "[127.0.0.1]:7000 " + test::read_file(dir / "host.pub"));
    }
    // "SHA256:..." of NAME.pub, as ssh-keygen -l prints it.
    std::string fingerprint(const std::string& name) const {
        std::string line = openssh::fingerprint_line(dir / (name + ".pub"));
        auto start = line.find(' ') + 1;
        return line.substr(start, line.find(' ', start) - start);
    }
    GateConfig gate(const std::string& text) const {
        test::write_file(dir / "gate.toml", minimal_gate + text);
        return load_gate_config(dir / "gate.toml");
    }
    TunnelConfig tunnel(const std::string& text) const {
        test::write_file(dir / "tunnel.toml", "server = \"127.0.0.1:7000\"\n" + text);
        return load_tunnel_config(dir / "tunnel.toml");
    }
};

}  // namespace config_fixture
using namespace config_fixture;
