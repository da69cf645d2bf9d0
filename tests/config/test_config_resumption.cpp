// The resumption kind from config files: a gate and a tunnel whose second
// handshake resumes, [[allow]] on a resumed session, SIGHUP forgetting the
// tickets, and the errors.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>

#include <authchain/auth/resumption.hpp>
#include "tests/config/config_fixture.hpp"
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

// Its own namespace: a unity build compiles the config tests into one TU.
namespace config_resumption_test {

using namespace authchain;
using namespace authchain::config;
using namespace asio::experimental::awaitable_operators;

using Files = config_fixture::KeyFiles;

const std::string gate_chain = "[[layer]]\nkind = \"secure_channel\"\n"
                               "[[layer]]\nkind = \"resumption\"\nlifetime = \"2m\"\nmax_tickets = 100\n"
                               "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                               "authorized_keys = \"authorized_keys\"\n";
const std::string tunnel_chain = "[[layer]]\nkind = \"secure_channel\"\n"
                                 "[[layer]]\nkind = \"resumption\"\nmax_servers = 8\n"
                                 "[[layer]]\nkind = \"public_key\"\nidentity = \"alice\"\n"
                                 "known_hosts = \"known_hosts\"\n";

struct Outcome {
    std::optional<AuthenticationError> server_error, client_error;
    std::optional<Credentials> server;
};

asio::awaitable<void> side(const Authenticator& chain, Stream stream, std::optional<AuthenticationError>& error,
                           std::optional<Credentials>* proven) {
    try {
        Session s = co_await chain(start_session(std::move(stream)));
        if (proven) *proven = s.credentials;
    } catch (const AuthenticationError& e) {
        error = e;
    }
}

// One handshake; the gate's [[allow]] check is part of gate.chain. The pipe
// reports the peer 127.0.0.1:5000 to the tunnel (its ticket's server).
Outcome handshake(const GateConfig& gate, const TunnelConfig& tunnel) {
    Outcome o;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await (side(gate.chain, std::move(s), o.server_error, &o.server) &&
                  side(tunnel.chain, std::move(c), o.client_error, nullptr));
    });
    return o;
}

std::string gate_error(const Files& f, const std::string& text) {
    try {
        (void)f.gate(text);
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError");
    return {};
}


TEST_CASE("config resumption: the second handshake resumes, [[allow]] still decides, SIGHUP forgets") {
    Files f;
    GateConfig gate = f.gate("[[allow]]\nkey_fingerprint = \"" + f.fingerprint("alice") + "\"\n" + gate_chain);
    CHECK(gate.layer_names == std::vector<std::string>{"secure_channel", "resumption", "public_key"});
    REQUIRE(gate.reloadables.size() == 2);  // the tickets, public_key's files
    TunnelConfig tunnel = f.tunnel(tunnel_chain);

    auto first = handshake(gate, tunnel);
    REQUIRE_MESSAGE(!first.server_error, first.server_error->detail());
    REQUIRE_FALSE(first.client_error);
    CHECK_FALSE(resumed(*first.server));
    auto second = handshake(gate, tunnel);
    REQUIRE_MESSAGE(!second.server_error, second.server_error->detail());
    CHECK(resumed(*second.server));
    CHECK(second.server->key_fingerprint == f.fingerprint("alice"));

    // [[allow]] runs after the chain, on the resumed facts as on the full ones.
    GateConfig other = f.gate("[[allow]]\nkey_fingerprint = \"SHA256:someone-else\"\n" + gate_chain);
    auto refused = handshake(other, tunnel);  // a ticket of the first gate: unknown here, full path
    REQUIRE(refused.server_error);
    CHECK(refused.server_error->reason() == DenyReason::denied);

    for (const auto& r : gate.reloadables) r->reload();
    auto after_reload = handshake(gate, tunnel);
    REQUIRE_MESSAGE(!after_reload.server_error, after_reload.server_error->detail());
    CHECK_FALSE(resumed(*after_reload.server));
}

TEST_CASE("config resumption: the [[allow]] check runs after it on resumed connections too") {
    Files f;
    test::write_file(f.dir / "t.toml", gate_chain);
    toml::table root = toml::parse_file((f.dir / "t.toml").string());
    TableReader top(root, (f.dir / "t.toml").string(), "", f.dir.path());
    int tail_runs = 0;
    Authenticator tail = [&tail_runs](Session s) -> asio::awaitable<Session> {
        ++tail_runs;
        co_return s;
    };
    Chain chain = build_chain(top, top.tables("layer"), LayerContext{.side = Side::server}, tail);
    GateConfig gate;
    gate.chain = chain.authenticator;
    TunnelConfig tunnel = f.tunnel(tunnel_chain);
    REQUIRE_FALSE(handshake(gate, tunnel).server_error);
    auto second = handshake(gate, tunnel);
    REQUIRE_FALSE(second.server_error);
    CHECK(resumed(*second.server));
    CHECK(tail_runs == 2);
}

TEST_CASE("config resumption: where it may stand in the chain") {
    Files f;
    const std::string sc = "[[layer]]\nkind = \"secure_channel\"\n", rs = "[[layer]]\nkind = \"resumption\"\n",
                      pk = "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n";
    CHECK(gate_error(f, sc + rs + "[[layer]]\nkind = \"connection_limit\"\nmax = 5\n" + pk)
              .find("layer[2].kind: connection_limit after resumption (layer[1]): a resumed connection skips every "
                    "layer after it, so only layers that authenticate may follow it; put connection_limit before it") !=
          std::string::npos);
    CHECK(gate_error(f, rs + sc + pk).find("layer[0].kind: resumption needs secure_channel or tls before it") !=
          std::string::npos);
    CHECK(gate_error(f, sc + rs + pk + rs).find("layer[3].kind: resumption after resumption") != std::string::npos);
    CHECK(gate_error(f, sc + rs + sc + pk).find("layer[2].kind: secure_channel after resumption") !=
          std::string::npos);
    CHECK(gate_error(f, sc + "[[layer]]\nkind = \"any_of\"\n[[layer.method]]\nkind = \"resumption\"\n")
              .find("layer[1].method[0].kind: resumption cannot be nested here") != std::string::npos);
    CHECK_NOTHROW((void)f.gate(sc + rs + pk));
}

TEST_CASE("config resumption: errors name file:line:key") {
    Files f;
    auto with = [&](const std::string& keys) {
        return gate_error(f, "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"resumption\"\n" + keys +
                                 "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                                 "authorized_keys = \"authorized_keys\"\n");
    };
    CHECK(with("lifetime = \"0s\"\n").find("gate.toml:7: layer[1].lifetime: duration must be between") != std::string::npos);
    CHECK(with("lifetime = \"25h\"\n").find("layer[1].lifetime:") != std::string::npos);
    CHECK(with("lifetime = \"1500ms\"\n").find("layer[1].lifetime: must be whole seconds") != std::string::npos);
    CHECK(with("max_tickets = 0\n").find("layer[1].max_tickets:") != std::string::npos);
    CHECK(with("tickets = 5\n").find("layer[1]") != std::string::npos);
    CHECK(with("tickets = 5\n").find("max_tickets") != std::string::npos);  // the message lists the keys
    try {
        (void)f.tunnel("[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"resumption\"\nmax_servers = 0\n");
        FAIL("loaded");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("tunnel.toml:6: layer[1].max_servers:") != std::string::npos);
    }
}

}  // namespace config_resumption_test
