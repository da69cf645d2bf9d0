// Chains built from config files run end to end over a pipe: the gate's
// ip_filter | secure_channel | public_key against the tunnel's
// secure_channel | public_key, [[allow]] rules, and SIGHUP reload.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <cstdlib>
#include <string>

#include <authchain/auth/openssh/keyfile.hpp>
#include "tests/support/run.hpp"
#include "config/config.hpp"
#include "tests/config/config_fixture.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace authchain::config;
using namespace asio::experimental::awaitable_operators;

// Its own namespace: the config tests each run their own handshake helper
// and fixture, and a unity build compiles them into one TU.
namespace config_chains_test {

namespace {

using Keys = config_fixture::KeyFiles;

std::string gate_toml(const std::string& allow = "") {
    return R"(listen = "127.0.0.1:7000"
backend = "127.0.0.1:8000"
)" + allow + R"(
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.0/8"]

[[layer]]
kind = "secure_channel"
suites = ["25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA256"]

[[layer]]
kind = "public_key"
host_key = "host"
authorized_keys = "authorized_keys"
)";
}

std::string tunnel_toml(const std::string& identity) {
    return R"(server = "127.0.0.1:7000"

[[layer]]
kind = "secure_channel"
ciphers = ["25519_ChaChaPoly_SHA256"]

[[layer]]
kind = "public_key"
identity = ")" + identity + R"("
known_hosts = "known_hosts"
)";
}

struct Handshake {
    std::optional<DenyReason> server_refused, client_refused;
    std::string server_identity, client_host;
};

asio::awaitable<void> side(const Authenticator& chain, Stream stream, std::optional<DenyReason>& refused,
                           std::string& fact, bool server) {
    std::optional<Session> s;
    try {
        s.emplace(co_await chain(start_session(std::move(stream))));
    } catch (const AuthenticationError& e) {
        refused = e.reason();
        co_return;
    }
    fact = server ? s->credentials.identity() : s->credentials.host_name.value_or("");
    // Hold the stream open until the peer is done with its half (a peer
    // whose own chain refused closes it: that is fine here).
    try {
        char byte = 0;
        co_await write_all(s->stream, asio::buffer(&byte, 1));
        co_await read_exact(s->stream, asio::buffer(&byte, 1), "end");
    } catch (const std::exception&) {
    }
}

Handshake handshake(const GateConfig& gate, const TunnelConfig& tunnel) {
    Handshake h;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await (side(gate.chain, std::move(s), h.server_refused, h.server_identity, true) &&
                  side(tunnel.chain, std::move(c), h.client_refused, h.client_host, false));
    });
    return h;
}

}  // namespace

TEST_CASE("gate and tunnel configs build chains that authenticate each other") {
    Keys k;
    test::write_file(k.dir / "gate.toml", gate_toml());
    test::write_file(k.dir / "tunnel.toml", tunnel_toml("alice"));
    GateConfig gate = load_gate_config(k.dir / "gate.toml");
    TunnelConfig tunnel = load_tunnel_config(k.dir / "tunnel.toml");
    CHECK(gate.layer_names == std::vector<std::string>{"ip_filter", "secure_channel", "public_key"});
    CHECK(tunnel.layer_names == std::vector<std::string>{"secure_channel", "public_key"});
    REQUIRE(gate.reloadables.size() == 1);
    CHECK(gate.reloadables[0]->name().find("layer[2]") != std::string::npos);

    auto h = handshake(gate, tunnel);
    CHECK_FALSE(h.server_refused);
    CHECK_FALSE(h.client_refused);
    CHECK(h.server_identity.find(k.fingerprint("alice")) != std::string::npos);
    CHECK(h.client_host == "[127.0.0.1]:7000");
}

TEST_CASE("a key not in authorized_keys is refused; SIGHUP reload admits it") {
    Keys k;
    test::write_file(k.dir / "gate.toml", gate_toml());
    test::write_file(k.dir / "tunnel.toml", tunnel_toml("bob"));
    GateConfig gate = load_gate_config(k.dir / "gate.toml");
    TunnelConfig tunnel = load_tunnel_config(k.dir / "tunnel.toml");
    CHECK(handshake(gate, tunnel).server_refused == DenyReason::denied);

    test::write_file(k.dir / "authorized_keys", test::read_file(k.dir / "bob.pub"));
    gate.reloadables.at(0)->reload();
    auto h = handshake(gate, tunnel);
    CHECK_FALSE(h.server_refused);
    CHECK(h.server_identity.find(k.fingerprint("bob")) != std::string::npos);
}

TEST_CASE("[[allow]] by key fingerprint: the matching key passes, another proven key is denied") {
    Keys k;
    test::write_file(k.dir / "authorized_keys",
                     test::read_file(k.dir / "alice.pub") + test::read_file(k.dir / "bob.pub"));
    test::write_file(k.dir / "gate.toml",
                     gate_toml("[[allow]]\nkey_fingerprint = \"" + k.fingerprint("alice") + "\"\n"));
    GateConfig gate = load_gate_config(k.dir / "gate.toml");
    test::write_file(k.dir / "alice.toml", tunnel_toml("alice"));
    test::write_file(k.dir / "bob.toml", tunnel_toml("bob"));
    CHECK_FALSE(handshake(gate, load_tunnel_config(k.dir / "alice.toml")).server_refused);
    CHECK(handshake(gate, load_tunnel_config(k.dir / "bob.toml")).server_refused == DenyReason::denied);
}

TEST_CASE("public_key: a command= key is refused unless ignore_command = true") {
    Keys k;
    test::write_file(k.dir / "authorized_keys", "command=\"uptime\" " + test::read_file(k.dir / "alice.pub"));
    test::write_file(k.dir / "gate.toml", gate_toml());
    test::write_file(k.dir / "alice.toml", tunnel_toml("alice"));
    CHECK(handshake(load_gate_config(k.dir / "gate.toml"), load_tunnel_config(k.dir / "alice.toml")).server_refused ==
          DenyReason::denied);
    test::write_file(k.dir / "gate.toml", gate_toml() + "ignore_command = true\n");
    CHECK_FALSE(handshake(load_gate_config(k.dir / "gate.toml"), load_tunnel_config(k.dir / "alice.toml")).server_refused);
}

TEST_CASE("public_key: a permitopen= key gets through only when it names the gate's backend") {
    Keys k;
    test::write_file(k.dir / "gate.toml", gate_toml());  // backend = "127.0.0.1:8000"
    test::write_file(k.dir / "alice.toml", tunnel_toml("alice"));
    auto refused_with = [&](const std::string& permitopen) {
        test::write_file(k.dir / "authorized_keys",
                         "permitopen=\"" + permitopen + "\" " + test::read_file(k.dir / "alice.pub"));
        return handshake(load_gate_config(k.dir / "gate.toml"), load_tunnel_config(k.dir / "alice.toml")).server_refused;
    };
    CHECK_FALSE(refused_with("127.0.0.1:8000"));
    CHECK(refused_with("127.0.0.1:8001") == DenyReason::denied);
    CHECK(refused_with("10.0.0.1:8000") == DenyReason::denied);
}

TEST_CASE("a tunnel with strict known_hosts refuses an unknown gate") {
    Keys k;
    test::write_file(k.dir / "known_hosts", "");
    test::write_file(k.dir / "gate.toml", gate_toml());
    test::write_file(k.dir / "tunnel.toml", tunnel_toml("alice"));
    auto h = handshake(load_gate_config(k.dir / "gate.toml"), load_tunnel_config(k.dir / "tunnel.toml"));
    CHECK(h.client_refused == DenyReason::denied);
    CHECK(h.server_refused);
}

TEST_CASE("crypto layer errors name file:line:key") {
    Keys k;
    auto error = [&](const std::string& name, const std::string& text, bool gate) {
        test::write_file(k.dir / name, text);
        try {
            if (gate) (void)load_gate_config(k.dir / name);
            else (void)load_tunnel_config(k.dir / name);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        FAIL("loaded " << text);
        return std::string();
    };
    const std::string head = "listen = \":7000\"\nbackend = \"h:1\"\n[[layer]]\n";
    CHECK(error("g1.toml", head + "kind = \"public_key\"\nhost_key = \"nope\"\nauthorized_keys = \"authorized_keys\"\n", true)
              .find("g1.toml:5: layer[0].host_key: file not found: " + (k.dir / "nope").string()) != std::string::npos);
    CHECK(error("g2.toml", head + "kind = \"public_key\"\nhost_key = \"host\"\n", true)
              .find("g2.toml:3: layer[0].authorized_keys: missing required key") != std::string::npos);
    CHECK(error("g3.toml", head + "kind = \"secure_channel\"\nsuites = [\"25519_ROT13_MD5\"]\n", true)
              .find("g3.toml:5: layer[0].suites: unknown suite \"25519_ROT13_MD5\" (known: 25519_AESGCM_SHA256") !=
          std::string::npos);
    // A key file that is not a key: the layer's own error, at the layer's table.
    // (known_hosts itself is 0644 here, refused for its mode before it is read:
    // each reason is checked on a file that has only that fault.)
    test::write_file(k.dir / "not_a_key", test::read_file(k.dir / "known_hosts"), 0600);
    CHECK(error("g4.toml", head + "kind = \"public_key\"\nhost_key = \"not_a_key\"\nauthorized_keys = \"authorized_keys\"\n", true)
              .find("g4.toml:3: layer[0]: public_key: " + (k.dir / "not_a_key").string() +
                    ": not a private key file") != std::string::npos);
    CHECK(error("g4.toml", head + "kind = \"public_key\"\nhost_key = \"known_hosts\"\nauthorized_keys = \"authorized_keys\"\n", true)
              .find("g4.toml:3: layer[0]: public_key: Permissions 0644 for '" + (k.dir / "known_hosts").string() +
                    "' are too open") != std::string::npos);
    test::write_file(k.dir / "pass", "secret\n", 0644);
    CHECK(error("g5.toml", head + "kind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n"
                                  "host_key_passphrase_file = \"pass\"\n", true)
              .find("g5.toml:7: layer[0].host_key_passphrase_file: Permissions 0644 for '" +
                    (k.dir / "pass").string() + "' are too open") != std::string::npos);
    CHECK(error("t1.toml", "server = \"h:7000\"\n[[layer]]\nkind = \"public_key\"\nidentity = \"alice\"\n"
                           "known_hosts = \"absent_known_hosts\"\n", false)
              .find("t1.toml:5: layer[0].known_hosts: file not found") != std::string::npos);
    CHECK(error("t2.toml", "server = \"h:7000\"\n[[layer]]\nkind = \"public_key\"\nidentity = \"alice\"\n"
                           "known_hosts = \"known_hosts\"\nstrict = \"no\"\n", false)
              .find("t2.toml:6: layer[0].strict: expected true or false, got a string") != std::string::npos);
}

TEST_CASE("accept-new (strict = false) may name a known_hosts file that does not exist yet") {
    Keys k;
    test::write_file(k.dir / "t.toml", "server = \"h:7000\"\n[[layer]]\nkind = \"public_key\"\nidentity = \"alice\"\n"
                                       "known_hosts = \"new_known_hosts\"\nstrict = false\n");
    CHECK_NOTHROW((void)load_tunnel_config(k.dir / "t.toml"));
}

namespace {

// The ```toml block of docs/config.md whose first line is "# <name>".
std::string doc_example(const std::string& name) {
    const char* root = std::getenv("AUTHCHAIN_SOURCE_ROOT");
    REQUIRE(root != nullptr);
    std::string doc = test::read_file(std::filesystem::path(root) / "docs" / "config.md");
    auto start = doc.find("```toml\n# " + name);
    REQUIRE(start != std::string::npos);
    start += 8;
    auto end = doc.find("```", start);
    REQUIRE(end != std::string::npos);
    return doc.substr(start, end - start);
}

}  // namespace

TEST_CASE("the complete gate.toml and tunnel.toml of docs/config.md load") {
    test::TempDir dir;
    std::filesystem::create_directory(dir / "keys");
    openssh::write_keypair(dir / "keys/host", "gate", std::nullopt);
    openssh::write_keypair(dir / "keys/id", "alice", std::nullopt);
    test::write_file(dir / "keys/authorized_keys", test::read_file(dir / "keys/id.pub"));
    test::write_file(dir / "keys/known_hosts", "[gate.example.org]:7000 " + test::read_file(dir / "keys/host.pub"));
    test::write_file(dir / "gate.toml", doc_example("gate.toml"));
    test::write_file(dir / "tunnel.toml", doc_example("tunnel.toml"));

    GateConfig gate = load_gate_config(dir / "gate.toml");
    CHECK(gate.listen.to_string() == "0.0.0.0:7000");
    CHECK(gate.layer_names ==
          std::vector<std::string>{"ip_filter", "failure_throttle", "secure_channel", "public_key"});
    CHECK(gate.allow.size() == 1);
    TunnelConfig tunnel = load_tunnel_config(dir / "tunnel.toml");
    CHECK(tunnel.server.to_string() == "gate.example.org:7000");
    CHECK(tunnel.layer_names == std::vector<std::string>{"secure_channel", "public_key"});
}

}  // namespace config_chains_test
