// The psk and any_of kinds from config files: chains that run over a pipe,
// [[allow]] psk_id, SIGHUP reload, startup warnings, and the errors.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <botan/base64.h>
#include <botan/system_rng.h>

#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/psk.hpp>
#include "config/config.hpp"
#include "tests/config/config_fixture.hpp"
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace authchain::config;
using namespace asio::experimental::awaitable_operators;

// Its own namespace: the config tests each run their own handshake helper
// and fixture, and a unity build compiles them into one TU.
namespace config_psk_test {

namespace {

std::string key_line(const std::string& id) {
    Botan::secure_vector<std::uint8_t> k(32);
    Botan::system_rng().randomize(k.data(), k.size());
    return id + ":" + Botan::base64_encode(k) + "\n";
}

struct Files : config_fixture::KeyFiles {
    std::string k2026 = key_line("2026"), k2025 = key_line("2025");
    Files() {
        test::write_file(dir / "gate.psk", "# live keys\n" + k2026 + k2025, 0600);
        test::write_file(dir / "tunnel.psk", k2026, 0600);
        test::write_file(dir / "old.psk", k2025, 0600);
        test::write_file(dir / "wrong.psk", key_line("2026"), 0600);
    }
};

const std::string any_of_gate = R"(
[[layer]]
kind = "secure_channel"
[[layer]]
kind = "any_of"
max_attempts = 2
[[layer.method]]
kind = "public_key"
host_key = "host"
authorized_keys = "authorized_keys"
[[layer.method]]
kind = "psk"
keys = "gate.psk"
)";

std::string any_of_tunnel(const std::string& methods) {
    return "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"any_of\"\n" + methods;
}

std::string psk_method(const std::string& file) {
    return "[[layer.method]]\nkind = \"psk\"\nkey_file = \"" + file + "\"\n";
}

std::string pk_method(const std::string& identity) {
    return "[[layer.method]]\nkind = \"public_key\"\nidentity = \"" + identity + "\"\nknown_hosts = \"known_hosts\"\n";
}

struct Outcome {
    std::optional<AuthenticationError> server_error, client_error;
    std::optional<Credentials> server;
};

asio::awaitable<void> side(const Authenticator& chain, Stream stream, std::optional<AuthenticationError>& error,
                           std::optional<Credentials>* proven) {
    std::optional<Session> s;
    try {
        s.emplace(co_await chain(start_session(std::move(stream))));
    } catch (const AuthenticationError& e) {
        error = e;
        co_return;
    } catch (const std::system_error&) {
        co_return;  // the peer closed first (a blocked source is refused unread)
    }
    if (proven) *proven = s->credentials;
    try {  // hold the stream until the peer is done
        char byte = 0;
        co_await write_all(s->stream, asio::buffer(&byte, 1));
        co_await read_exact(s->stream, asio::buffer(&byte, 1), "end");
    } catch (const std::exception&) {
    }
}

Outcome handshake(const GateConfig& gate, const TunnelConfig& tunnel, PipeOptions options = {}) {
    Outcome o;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex, options);
        co_await (side(gate.chain, std::move(s), o.server_error, &o.server) &&
                  side(tunnel.chain, std::move(c), o.client_error, nullptr));
    });
    return o;
}

std::string config_error(const std::function<void()>& load) {
    try {
        load();
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError");
    return {};
}

}  // namespace

TEST_CASE("config psk: secure_channel | psk, and [[allow]] psk_id") {
    Files f;
    const std::string chain = "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n";
    GateConfig gate = f.gate("[[allow]]\npsk_id = \"2026\"\n" + chain);
    CHECK(gate.layer_names == std::vector<std::string>{"secure_channel", "psk"});
    REQUIRE(gate.reloadables.size() == 1);
    CHECK(gate.reloadables[0]->warnings().empty());
    TunnelConfig tunnel =
        f.tunnel("[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\n");
    auto ok = handshake(gate, tunnel);
    REQUIRE_FALSE(ok.server_error);
    CHECK(ok.server->psk_id == std::string("2026"));

    // The old key is still accepted by psk, but [[allow]] admits 2026 only.
    TunnelConfig old = f.tunnel("[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"psk\"\nkey_file = \"old.psk\"\n");
    auto refused = handshake(gate, old);
    REQUIRE(refused.server_error);
    CHECK(refused.server_error->reason() == DenyReason::denied);
}

TEST_CASE("config psk: key_id picks a key of the tunnel's file; SIGHUP reload drops a retired key") {
    Files f;
    test::write_file(f.dir / "tunnel.psk", f.k2026 + f.k2025, 0600);
    GateConfig gate = f.gate("[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n");
    TunnelConfig tunnel = f.tunnel("[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"psk\"\n"
                                   "key_file = \"tunnel.psk\"\nkey_id = \"2025\"\n");
    auto before = handshake(gate, tunnel);
    REQUIRE_FALSE(before.server_error);
    CHECK(before.server->psk_id == std::string("2025"));
    test::write_file(f.dir / "gate.psk", f.k2026, 0600);
    gate.reloadables.at(0)->reload();
    auto after = handshake(gate, tunnel);
    REQUIRE(after.server_error);
    CHECK(after.server_error->reason() == DenyReason::denied);
}

TEST_CASE("config psk: allow_plaintext runs on a plain stream, and both sides warn") {
    Files f;
    GateConfig gate = f.gate("[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\nallow_plaintext = true\n");
    TunnelConfig tunnel = f.tunnel("[[layer]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\nallow_plaintext = true\n");
    REQUIRE(gate.reloadables.size() == 1);
    REQUIRE(gate.reloadables[0]->warnings().size() == 1);
    CHECK(gate.reloadables[0]->warnings()[0].find("neither encrypted nor bound") != std::string::npos);
    REQUIRE(tunnel.reloadables.size() == 1);
    CHECK(tunnel.reloadables[0]->warnings().size() == 1);
    auto ok = handshake(gate, tunnel);  // the pipe's default protection: plain, no channel id
    REQUIRE_FALSE(ok.server_error);
    CHECK(ok.server->psk_id == std::string("2026"));

    GateConfig strict = f.gate("[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n");
    auto refused = handshake(strict, tunnel);
    REQUIRE(refused.server_error);
    CHECK(refused.server_error->reason() == DenyReason::protocol_error);
}

TEST_CASE("config any_of: a client without a key gets in by psk; one with neither is denied") {
    Files f;
    GateConfig gate = f.gate(any_of_gate);
    CHECK(gate.layer_names == std::vector<std::string>{"secure_channel", "any_of"});
    CHECK(gate.reloadables.size() == 2);  // public_key's files and psk's keys

    auto by_psk = handshake(gate, f.tunnel(any_of_tunnel(psk_method("tunnel.psk"))));
    REQUIRE_FALSE(by_psk.server_error);
    CHECK(by_psk.server->psk_id == std::string("2026"));
    CHECK_FALSE(by_psk.server->key_fingerprint.known());

    auto by_key = handshake(gate, f.tunnel(any_of_tunnel(pk_method("alice") + psk_method("tunnel.psk"))));
    REQUIRE_FALSE(by_key.server_error);
    CHECK(by_key.server->key_fingerprint.known());
    CHECK_FALSE(by_key.server->psk_id.known());

    // bob's key is not authorized: public_key fails, then psk with the right key succeeds.
    auto second = handshake(gate, f.tunnel(any_of_tunnel(pk_method("bob") + psk_method("tunnel.psk"))));
    REQUIRE_FALSE(second.server_error);
    CHECK(second.server->psk_id == std::string("2026"));

    auto neither = handshake(gate, f.tunnel(any_of_tunnel(pk_method("bob") + psk_method("wrong.psk"))));
    REQUIRE(neither.server_error);
    CHECK(neither.server_error->reason() == DenyReason::denied);
    REQUIRE(neither.client_error);
    CHECK(neither.client_error->reason() == DenyReason::denied);
}

TEST_CASE("config any_of under failure_throttle: each failed method counts, so one connection can use up the budget") {
    Files f;
    GateConfig gate = f.gate("[[layer]]\nkind = \"failure_throttle\"\nmax_failures = 2\n" + any_of_gate);
    // bob's key, then a wrong psk: two failed methods in one connection.
    // The first counts when any_of moves on, the last when the chain is
    // denied: max_failures = 2 is reached by this one connection.
    auto neither = handshake(gate, f.tunnel(any_of_tunnel(pk_method("bob") + psk_method("wrong.psk"))));
    REQUIRE(neither.server_error);
    CHECK(neither.server_error->reason() == DenyReason::denied);
    // The next connection from that source is refused before any method
    // runs, even with the right key.
    auto blocked = handshake(gate, f.tunnel(any_of_tunnel(psk_method("tunnel.psk"))));
    REQUIRE(blocked.server_error);
    CHECK(blocked.server_error->reason() == DenyReason::host_blocked);
    // Without the throttle the same two failures leave the source free.
    GateConfig free_gate = f.gate(any_of_gate);
    auto again = handshake(free_gate, f.tunnel(any_of_tunnel(pk_method("bob") + psk_method("wrong.psk"))));
    REQUIRE(again.server_error);
    CHECK(again.server_error->reason() == DenyReason::denied);
    CHECK_FALSE(handshake(free_gate, f.tunnel(any_of_tunnel(psk_method("tunnel.psk")))).server_error);
}

TEST_CASE("config psk and any_of: errors name file:line:key") {
    Files f;
    auto gate_error = [&](const std::string& text) { return config_error([&] { (void)f.gate(text); }); };
    auto tunnel_error = [&](const std::string& text) { return config_error([&] { (void)f.tunnel(text); }); };
    CHECK(gate_error("[[layer]]\nkind = \"psk\"\n").find("layer[0].keys: missing required key") != std::string::npos);
    CHECK(gate_error("[[layer]]\nkind = \"psk\"\nkeys = \"absent\"\n").find("layer[0].keys: file not found") !=
          std::string::npos);
    test::write_file(f.dir / "open.psk", f.k2026, 0644);
    CHECK(gate_error("[[layer]]\nkind = \"psk\"\nkeys = \"open.psk\"\n").find("are too open") != std::string::npos);
    test::write_file(f.dir / "short.psk", "s:" + Botan::base64_encode(std::vector<std::uint8_t>(16, 1)) + "\n", 0600);
    CHECK(gate_error("[[layer]]\nkind = \"psk\"\nkeys = \"short.psk\"\n").find("short.psk:1: key of 16 bytes is too short") !=
          std::string::npos);
    CHECK(gate_error("[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\nkey_id = \"x\"\n").find("key_id") != std::string::npos);
    CHECK(tunnel_error("[[layer]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\nkey_id = \"no such\"\n")
              .find("layer[0].key_id: invalid key id") != std::string::npos);
    CHECK(tunnel_error("[[layer]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\nkey_id = \"2099\"\n")
              .find("no key with id \"2099\"") != std::string::npos);
    CHECK(gate_error("[[layer]]\nkind = \"any_of\"\n").find("layer[0].method: give at least one") != std::string::npos);
    CHECK(gate_error("[[layer]]\nkind = \"any_of\"\nmax_attempts = 0\n[[layer.method]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n")
              .find("layer[0].max_attempts") != std::string::npos);
    CHECK(gate_error("[[layer]]\nkind = \"any_of\"\n[[layer.method]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n"
                     "[[layer.method]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n")
              .find("method kind \"psk\" given twice") != std::string::npos);
    CHECK(gate_error("[[layer]]\nkind = \"any_of\"\n[[layer.method]]\nkind = \"psk\"\n")
              .find("layer[0].method[0].keys: missing required key") != std::string::npos);
    CHECK(tunnel_error("[[layer]]\nkind = \"any_of\"\n[[layer.method]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n")
              .find("layer[0].method[0]") != std::string::npos);
    CHECK(gate_error("[[allow]]\npsk_id = \"\"\n").find("allow[0].psk_id: empty string") != std::string::npos);
}

}  // namespace config_psk_test
