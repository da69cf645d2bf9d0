// multiplex, multiplex_max_streams and multiplex_window, in gate and tunnel
// files: defaults, ranges (the wire format's), and the two tuning keys
// refused without multiplex = true, each error naming file:line:key.
#include "tests/config/config_fixture.hpp"

#include <authchain/relay/multiplex/multiplexer.hpp>

// Its own namespace: a unity build compiles the config tests into one TU.
namespace config_multiplex_test {

using authchain::config::GateConfig;
using authchain::config::TunnelConfig;
using config_fixture::gate_error;
using config_fixture::minimal_gate;
using config_fixture::tunnel_error;

const std::string minimal_tunnel = "server = \"127.0.0.1:7000\"\nlisten = \"127.0.0.1:7001\"\n";

GateConfig gate(const std::string& keys) {
    authchain::test::TempDir dir;
    return authchain::config::load_gate_config(config_fixture::config_file(dir, minimal_gate + keys));
}

TunnelConfig tunnel(const std::string& keys) {
    authchain::test::TempDir dir;
    return authchain::config::load_tunnel_config(config_fixture::config_file(dir, minimal_tunnel + keys, "tunnel.toml"),
                                                 authchain::config::TunnelCommand::tunnel);
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// The three multiplex keys of a gate or tunnel config, as read.
template <class Config>
void check_multiplex(const Config& c, bool on, std::uint32_t max_streams, std::uint32_t window) {
    CHECK(c.multiplex == on);
    CHECK(c.multiplex_max_streams == max_streams);
    CHECK(c.multiplex_window == window);
}

TEST_CASE("config multiplex: off by default, with 1024 streams and a 256 KiB window, in gate and tunnel") {
    check_multiplex(gate(""), false, 1024, 262144);
    check_multiplex(tunnel(""), false, 1024, 262144);
}

TEST_CASE("config multiplex: every key parses, in gate and tunnel files, in any order") {
    check_multiplex(gate("multiplex_window = 65536\nmultiplex = true\nmultiplex_max_streams = 50\n"), true, 50, 65536);
    check_multiplex(tunnel("multiplex = true\nmultiplex_max_streams = 7\nmultiplex_window = 16777216\n"), true, 7,
                    16777216);
    CHECK_FALSE(gate("multiplex = false\n").multiplex);
    CHECK(gate("multiplex = true\n").multiplex_max_streams == 1024);  // the tuning keys keep their defaults
}

TEST_CASE("config multiplex: the ranges are the wire format's, ends included, and the library takes them") {
    CHECK(gate("multiplex = true\nmultiplex_max_streams = 1\n").multiplex_max_streams == 1);
    CHECK(gate("multiplex = true\nmultiplex_max_streams = 1048576\n").multiplex_max_streams == 1048576);
    CHECK(gate("multiplex = true\nmultiplex_window = 16384\n").multiplex_window == 16384);
    CHECK(gate("multiplex = true\nmultiplex_window = 16777216\n").multiplex_window == 16777216);
    // Whatever the config accepts, serve_multiplexed and MultiplexDialer accept.
    for (auto [streams, window] : {std::pair<std::uint32_t, std::uint32_t>{1, 16384}, {1048576, 16777216}})
        CHECK_NOTHROW(authchain::mux::validate({.max_streams = streams, .window = window}));
    CHECK_THROWS(authchain::mux::validate({.max_streams = 1048577}));
    CHECK_THROWS(authchain::mux::validate({.window = 16383}));
}

TEST_CASE("config multiplex: out of range, or of the wrong type, is an error naming file:line:key") {
    const std::string on = "multiplex = true\n";  // line 3; the key under test on line 4
    CHECK(has(gate_error(minimal_gate + on + "multiplex_max_streams = 0\n"),
              "gate.toml:4: multiplex_max_streams: must be between 1 and 1048576, got 0"));
    CHECK(has(gate_error(minimal_gate + on + "multiplex_max_streams = 1048577\n"),
              "gate.toml:4: multiplex_max_streams: must be between 1 and 1048576, got 1048577"));
    CHECK(has(gate_error(minimal_gate + on + "multiplex_window = 16383\n"),
              "gate.toml:4: multiplex_window: must be between 16384 and 16777216, got 16383"));
    CHECK(has(gate_error(minimal_gate + on + "multiplex_window = 16777217\n"),
              "gate.toml:4: multiplex_window: must be between 16384 and 16777216"));
    CHECK(has(gate_error(minimal_gate + on + "multiplex_window = \"256k\"\n"),
              "gate.toml:4: multiplex_window: expected an integer, got a string"));
    CHECK(has(gate_error(minimal_gate + "multiplex = \"yes\"\n"), "gate.toml:3: multiplex: expected true or false, got a string"));
    CHECK(has(tunnel_error(minimal_tunnel + on + "multiplex_max_streams = -1\n"),
              "tunnel.toml:4: multiplex_max_streams: must be between 1 and 1048576"));
    CHECK(has(tunnel_error(minimal_tunnel + on + "multiplex_window = 0\n"),
              "tunnel.toml:4: multiplex_window: must be between 16384 and 16777216"));
}

TEST_CASE("config multiplex: multiplex_max_streams or multiplex_window without multiplex = true is an error") {
    CHECK(has(gate_error(minimal_gate + "multiplex_max_streams = 10\n"),
              "gate.toml:3: multiplex_max_streams: needs multiplex = true"));
    CHECK(has(gate_error(minimal_gate + "multiplex_window = 65536\n"),
              "gate.toml:3: multiplex_window: needs multiplex = true"));
    // Said false in so many words: the same.
    CHECK(has(gate_error(minimal_gate + "multiplex_window = 65536\nmultiplex = false\n"),
              "gate.toml:3: multiplex_window: needs multiplex = true"));
    CHECK(has(tunnel_error(minimal_tunnel + "multiplex = false\nmultiplex_max_streams = 10\n"),
              "tunnel.toml:4: multiplex_max_streams: needs multiplex = true"));
    CHECK(has(tunnel_error(minimal_tunnel + "multiplex_window = 65536\n"),
              "tunnel.toml:3: multiplex_window: needs multiplex = true"));
}

TEST_CASE("config multiplex: a misspelled key is refused, the message lists the real ones") {
    std::string e = gate_error(minimal_gate + "multiplexed = true\n");
    CHECK(has(e, "gate.toml:3: multiplexed: unknown key"));
    CHECK(has(e, "multiplex_max_streams"));
    CHECK(has(e, "multiplex_window"));
}

}  // namespace config_multiplex_test
