// The tls kind (config/tls_kinds.cpp) and the [[allow]] keys for certificates.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>

#include <authchain/auth/tls_ca.hpp>
#include "tests/config/config_fixture.hpp"

namespace {

using namespace asio::experimental::awaitable_operators;

// A CA, a server and a client certificate in a private directory.
struct Certs {
    test::TempDir dir;
    Certs() {
        ca::Authority a = ca::make_authority({.name = "config CA"});
        test::write_file(dir / "ca.crt", a.certificate_pem(), 0644);
        ca::write_issued(dir.path(), "server", ca::issue(a, {.name = "gate.example", .purpose = ca::Purpose::server}));
        ca::write_issued(dir.path(), "alice", ca::issue(a, {.name = "alice", .purpose = ca::Purpose::client,
                                                             .uri = {"spiffe://example/alice"}}));
    }
    std::filesystem::path write(const std::string& name, const std::string& text) {
        test::write_file(dir / name, text);
        return dir / name;
    }
};

const std::string gate_tls = "listen = \"127.0.0.1:0\"\nbackend = \"127.0.0.1:8000\"\n[[layer]]\nkind = \"tls\"\n"
                             "cert = \"server.crt\"\nkey = \"server.key\"\nca = \"ca.crt\"\n";
const std::string tunnel_tls = "listen = \"127.0.0.1:0\"\nserver = \"gate.example:7000\"\n[[layer]]\nkind = \"tls\"\n"
                               "cert = \"alice.crt\"\nkey = \"alice.key\"\nca = [\"ca.crt\"]\n";

struct Both {
    std::optional<Credentials> gate, tunnel;
};

Both run_both(const Authenticator& gate, const Authenticator& tunnel) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<Both> {
        auto [c, s] = make_pipe(ex);
        auto side = [](const Authenticator& a, Stream st) -> asio::awaitable<std::optional<Credentials>> {
            try {
                Session out = co_await a(start_session(std::move(st)));
                co_return out.credentials;
            } catch (const AuthenticationError&) {
                co_return std::nullopt;
            }
        };
        auto [g, t] = co_await (side(gate, std::move(s)) && side(tunnel, std::move(c)));
        co_return Both{std::move(g), std::move(t)};
    });
}

}  // namespace

TEST_CASE("config tls: a gate and a tunnel from their files shake hands; the files are reloadable") {
    Certs certs;
    GateConfig gate = load_gate_config(certs.write("gate.toml", gate_tls));
    TunnelConfig tunnel = load_tunnel_config(certs.write("tunnel.toml", tunnel_tls), TunnelCommand::tunnel);
    REQUIRE(gate.reloadables.size() == 1);
    CHECK(gate.reloadables[0]->name().find("layer[0] tls: cert ") != std::string::npos);
    gate.reloadables[0]->reload();
    auto both = run_both(gate.chain, tunnel.chain);
    REQUIRE(both.gate);
    REQUIRE(both.tunnel);
    CHECK(both.gate->cert_subject == std::string("CN=alice"));
    CHECK(both.tunnel->cert_subject == std::string("CN=gate.example"));  // server_name: the host of `server`

    // pins and allow_* on the gate, through tls_peer.
    const std::string pin = *both.gate->cert_fingerprint;
    GateConfig pinned = load_gate_config(certs.write("pinned.toml", gate_tls + "pins = [\"" + pin + "\"]\n"));
    CHECK(run_both(pinned.chain, tunnel.chain).gate);
    GateConfig others = load_gate_config(
        certs.write("others.toml", gate_tls + "allow_cn = [\"bob\"]\nallow_uri = [\"spiffe://example/bob\"]\n"));
    CHECK_FALSE(run_both(others.chain, tunnel.chain).gate);
    GateConfig uri = load_gate_config(certs.write("uri.toml", gate_tls + "allow_uri = [\"spiffe://example/alice\"]\n"));
    CHECK(run_both(uri.chain, tunnel.chain).gate);
    TunnelConfig wrong_name = load_tunnel_config(
        certs.write("wrong.toml", tunnel_tls + "server_name = \"db.example\"\n"), TunnelCommand::tunnel);
    CHECK_FALSE(run_both(gate.chain, wrong_name.chain).tunnel);

    // [[allow]] over the certificate.
    AllowRule san{.cert_san = "URI:spiffe://example/alice"}, spki{.spki = pin}, other{.spki = "sha256//x"};
    CHECK(san.matches(*both.gate));
    CHECK(spki.matches(*both.gate));
    CHECK_FALSE(other.matches(*both.gate));
    CHECK_FALSE(AllowRule{.cert_san = "DNS:alice"}.matches(*both.gate));
}

TEST_CASE("config tls: errors name the key") {
    Certs certs;
    auto error = [&](const std::string& text, bool gate = true) -> std::string {
        try {
            if (gate) (void)load_gate_config(certs.write("e.toml", text));
            else (void)load_tunnel_config(certs.write("e.toml", text), TunnelCommand::tunnel);
        } catch (const ConfigError& e) {
            return e.what();
        }
        FAIL("no ConfigError for:\n" << text);
        return {};
    };
    const std::string no_ca = "listen = \"127.0.0.1:0\"\nbackend = \"127.0.0.1:8000\"\n[[layer]]\nkind = \"tls\"\n"
                              "cert = \"server.crt\"\nkey = \"server.key\"\n";
    CHECK(error(no_ca).find("layer[0].ca: missing") != std::string::npos);
    CHECK_NOTHROW(load_gate_config(certs.write("ok.toml", no_ca + "require_client_cert = false\n")));
    CHECK_NOTHROW(load_gate_config(certs.write("ok2.toml", gate_tls + "require_client_cert = \"optional\"\n")));
    CHECK(error(gate_tls + "require_client_cert = \"maybe\"\n").find("require_client_cert: expected true") !=
          std::string::npos);
    CHECK(error(no_ca + "require_client_cert = false\nallow_cn = [\"a\"]\n").find("require_client_cert") !=
          std::string::npos);
    CHECK(error(gate_tls + "pins = [\"abc\"]\n").find("pins: expected \"sha256//BASE64\"") != std::string::npos);
    CHECK(error(gate_tls + "ciphers = [\"AES-128/CBC\"]\n").find("ciphers: unknown cipher") != std::string::npos);
    CHECK(error(gate_tls + "ca2 = 1\n").find("ca2: unknown key") != std::string::npos);
    CHECK(error("listen = \"127.0.0.1:0\"\nbackend = \"127.0.0.1:8000\"\n[[layer]]\nkind = \"tls\"\n"
                "cert = \"server.crt\"\nkey = \"alice.key\"\nca = \"ca.crt\"\n")
              .find("does not match") != std::string::npos);
    CHECK(error("listen = \"127.0.0.1:0\"\nserver = \"h:1\"\n[[layer]]\nkind = \"tls\"\n", false)
              .find("layer[0].ca: missing") != std::string::npos);
    CHECK(error(gate_tls + "[[allow]]\nspki = \"SHA256:x\"\n").find("allow[0].spki: expected") != std::string::npos);
}
