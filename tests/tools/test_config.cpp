// tools/config: good files parse into the right structures and chains;
// every error class is a ConfigError naming file:line:key.
#include <doctest/doctest.h>

#include <string>

#include "tests/support/run.hpp"
#include "tools/config.hpp"
#include "tools/layers.hpp"
#include "tools/values.hpp"
#include "transport/pipe.hpp"

using namespace authchain;
using namespace authchain::tools;
using namespace std::chrono_literals;

namespace {

// Writes `text` as DIR/name and returns the path.
std::filesystem::path config_file(const test::TempDir& dir, const std::string& text,
                                  const std::string& name = "gate.toml") {
    test::write_file(dir / name, text);
    return dir / name;
}

std::string gate_error(const std::string& text) {
    test::TempDir dir;
    try {
        (void)load_gate_config(config_file(dir, text));
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for:\n" << text);
    return {};
}

std::string tunnel_error(const std::string& text) {
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

Outcome outcome(const Authenticator& chain) {
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

std::vector<std::string> run_chain(const Authenticator& chain) {
    auto o = outcome(chain);
    CHECK_FALSE(o.refused);
    return o.layers;
}

DenyReason refusal(const Authenticator& chain) {
    auto o = outcome(chain);
    REQUIRE(o.refused);
    return *o.refused;
}

const std::string minimal_gate = "listen = \"127.0.0.1:7000\"\nbackend = \"127.0.0.1:8000\"\n";

}  // namespace

TEST_CASE("a good gate file parses into the right structure") {
    test::TempDir dir;
    auto path = config_file(dir, R"(# a gate
listen = "[::1]:7000"
backend = "unix:app.sock"
handshake_timeout = "500ms"
max_connections = 20
audit_log = "audit.jsonl"
proxy_protocol = "v2"
user = "nobody"
grace = 3

[[allow]]
user = "alice"

[[allow]]
key_fingerprint = "SHA256:abc"
cert_subject = "CN=bob"

[[layer]]
kind = "ip_filter"
allow = ["127.0.0.0/8", "::1"]
deny = ["10.0.0.0/8"]

[[layer]]
kind = "connection_limit"
max = 5

[[layer]]
kind = "failure_throttle"
max_failures = 3
window = "1m"
cooldown = 600
max_sources = 100
)");
    GateConfig c = load_gate_config(path);
    CHECK(c.file == path);
    CHECK(c.listen.host == "::1");
    CHECK(c.listen.port == 7000);
    CHECK(c.listen.to_string() == "[::1]:7000");
    CHECK(c.backend.is_unix());
    CHECK(c.backend.unix_path == dir.path() / "app.sock");
    CHECK(c.handshake_timeout == 500ms);
    CHECK(c.max_connections == 20);
    CHECK(c.audit_log == (dir.path() / "audit.jsonl").string());
    CHECK(c.proxy_protocol == std::optional<std::string>("v2"));
    CHECK(c.user == std::optional<std::string>("nobody"));
    CHECK(c.grace == 3s);
    REQUIRE(c.allow.size() == 2);
    CHECK(c.allow[0].user == std::optional<std::string>("alice"));
    CHECK_FALSE(c.allow[0].key_fingerprint);
    CHECK(c.allow[1].key_fingerprint == std::optional<std::string>("SHA256:abc"));
    CHECK(c.allow[1].cert_subject == std::optional<std::string>("CN=bob"));
    CHECK(c.layer_names == std::vector<std::string>{"ip_filter", "connection_limit", "failure_throttle"});
    CHECK(c.reloadables.empty());
    CHECK(c.chain);
    CHECK_FALSE(chain_authenticates(c.layer_names));
}

TEST_CASE("defaults: listen :port is 127.0.0.1, a backend path is a Unix socket") {
    test::TempDir dir;
    GateConfig c = load_gate_config(config_file(dir, "listen = \":7000\"\nbackend = \"/run/app.sock\"\n"));
    CHECK(c.listen.host == "127.0.0.1");
    CHECK(c.listen.port == 7000);
    CHECK(c.backend.unix_path == "/run/app.sock");
    CHECK(c.backend.to_string() == "unix:/run/app.sock");
    CHECK(c.handshake_timeout == 10s);
    CHECK(c.max_connections == 1024);
    CHECK(c.audit_log.empty());
    CHECK_FALSE(c.proxy_protocol);
    CHECK_FALSE(c.user);
    CHECK(c.grace == 10s);
    CHECK(c.allow.empty());
    CHECK(c.layer_names.empty());
    CHECK(run_chain(c.chain) == std::vector<std::string>{"transport"});
}

TEST_CASE("a good tunnel file parses; listen is optional (probe)") {
    test::TempDir dir;
    TunnelConfig c = load_tunnel_config(config_file(dir, R"(
server = "gate.example.org:7000"
handshake_timeout = "2s"
audit_log = "-"
)", "tunnel.toml"));
    CHECK(c.server.host == "gate.example.org");
    CHECK(c.server.port == 7000);
    CHECK(c.listen.host.empty());
    CHECK(c.listen.port == 0);
    CHECK(c.handshake_timeout == 2s);
    CHECK(c.audit_log == "-");

    TunnelConfig with_listen =
        load_tunnel_config(config_file(dir, "listen = \"127.0.0.1:6000\"\nserver = \"[::1]:7000\"\n", "t2.toml"));
    CHECK(with_listen.listen.to_string() == "127.0.0.1:6000");
    CHECK(with_listen.server.to_string() == "[::1]:7000");
}

TEST_CASE("the ip_filter layer of a config runs: allowed and blocked peers") {
    test::TempDir dir;
    auto allowed = load_gate_config(config_file(dir, minimal_gate + R"(
[[layer]]
kind = "ip_filter"
allow = ["127.0.0.1"]
)", "a.toml"));
    CHECK(run_chain(allowed.chain).back() == "ip_filter");

    auto blocked = load_gate_config(config_file(dir, minimal_gate + R"(
[[layer]]
kind = "ip_filter"
allow = ["10.0.0.0/8"]
)", "b.toml"));
    CHECK(refusal(blocked.chain) == DenyReason::host_blocked);

    auto denied = load_gate_config(config_file(dir, minimal_gate + R"(
[[layer]]
kind = "ip_filter"
deny = ["127.0.0.0/8"]
)", "c.toml"));
    CHECK(refusal(denied.chain) == DenyReason::host_blocked);
}

TEST_CASE("[[allow]]: an identity matching no rule is denied by the final check") {
    test::TempDir dir;
    auto c = load_gate_config(config_file(dir, minimal_gate + "[[allow]]\nuser = \"alice\"\n"));
    CHECK(refusal(c.chain) == DenyReason::denied);
}

TEST_CASE("failure_throttle wraps every layer after it, the allow check included") {
    test::TempDir dir;
    auto c = load_gate_config(config_file(dir, minimal_gate + R"(
[[allow]]
user = "alice"

[[layer]]
kind = "failure_throttle"
max_failures = 1
cooldown = "1h"
)"));
    CHECK(refusal(c.chain) == DenyReason::denied);        // the allow check refused: a failure
    CHECK(refusal(c.chain) == DenyReason::host_blocked);  // the throttle saw it
}

TEST_CASE("connection_limit from a config holds its slot while the session lives") {
    test::TempDir dir;
    auto c = load_gate_config(config_file(dir, minimal_gate + "[[layer]]\nkind = \"connection_limit\"\nmax = 1\n"));
    auto reasons = test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::string>> {
        auto [c1, s1] = make_pipe(ex);
        auto [c2, s2] = make_pipe(ex);
        Session first = co_await c.chain(start_session(std::move(s1)));
        std::vector<std::string> out{"first passed"};
        try {
            Session second = co_await c.chain(start_session(std::move(s2)));
            out.push_back("second passed");
        } catch (const AuthenticationError& e) {
            out.push_back(std::string(to_string(e.reason())));
        }
        co_return out;
    });
    REQUIRE(reasons.size() == 2);
    CHECK(reasons[1] == std::string(to_string(DenyReason::busy)));
}

TEST_CASE("AllowRule: every present field must match; an absent fact never matches") {
    Credentials c;
    c.prove("t", &Credentials::user, std::string("alice"), "user");
    c.prove("t", &Credentials::key_fingerprint, std::string("SHA256:k"), "key");
    CHECK(AllowRule{.key_fingerprint = {}, .user = "alice", .cert_subject = {}}.matches(c));
    CHECK(AllowRule{.key_fingerprint = "SHA256:k", .user = "alice", .cert_subject = {}}.matches(c));
    CHECK_FALSE(AllowRule{.key_fingerprint = "SHA256:x", .user = "alice", .cert_subject = {}}.matches(c));
    CHECK_FALSE(AllowRule{.key_fingerprint = {}, .user = "bob", .cert_subject = {}}.matches(c));
    CHECK_FALSE(AllowRule{.key_fingerprint = {}, .user = "alice", .cert_subject = "CN=a"}.matches(c));
    CHECK_FALSE(AllowRule{}.matches(c));
}

TEST_CASE("errors name file:line:key: unknown key") {
    auto top = gate_error(minimal_gate + "colour = \"blue\"\n");
    CHECK(top.find("gate.toml:3: colour: unknown key") != std::string::npos);
    auto in_layer = gate_error(minimal_gate + "[[layer]]\nkind = \"connection_limit\"\nmax = 3\nmaxx = 4\n");
    CHECK(in_layer.find("gate.toml:6: layer[0].maxx: unknown key") != std::string::npos);
    auto in_allow = gate_error(minimal_gate + "[[allow]]\nuser = \"a\"\nusr = \"b\"\n");
    CHECK(in_allow.find("gate.toml:5: allow[0].usr: unknown key") != std::string::npos);
    auto tunnel_only = gate_error(minimal_gate + "server = \"h:1\"\n");
    CHECK(tunnel_only.find("gate.toml:3: server: unknown key") != std::string::npos);
    auto gate_only = tunnel_error("server = \"h:1\"\nbackend = \"h:2\"\n");
    CHECK(gate_only.find("tunnel.toml:2: backend: unknown key") != std::string::npos);
}

TEST_CASE("a misspelt key is reported as unknown, first by line, before the key it replaces is missed") {
    auto typo = gate_error("listen = \":7000\"\nzeta = 1\nbakend = \"h:1\"\n");
    CHECK(typo.find("gate.toml:2: zeta: unknown key (known here: listen, backend,") != std::string::npos);
    auto layer = gate_error(minimal_gate + "[[layer]]\nkind = \"public_key\"\nhost_key = \"h\"\nauthorised_keys = \"a\"\n");
    CHECK(layer.find("gate.toml:6: layer[0].authorised_keys: unknown key (known here: kind, host_key, "
                     "authorized_keys, host_key_passphrase_file)") != std::string::npos);
}

TEST_CASE("errors name file:line:key: unknown kind lists the known ones") {
    auto e = gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\nallow = [\"::1\"]\n\n"
                                       "[[layer]]\nkind = \"magic\"\n");
    CHECK(e.find("gate.toml:8: layer[1].kind: unknown kind \"magic\"") != std::string::npos);
    CHECK(e.find("ip_filter, connection_limit, failure_throttle") != std::string::npos);
    auto client = tunnel_error("server = \"h:1\"\n[[layer]]\nkind = \"ip_filter\"\n");
    CHECK(client.find("tunnel.toml:3: layer[0].kind: unknown kind \"ip_filter\" (known client kinds") !=
          std::string::npos);
}

TEST_CASE("errors name file:line:key: wrong type") {
    CHECK(gate_error(minimal_gate + "max_connections = \"many\"\n")
              .find("gate.toml:3: max_connections: expected an integer, got a string") != std::string::npos);
    CHECK(gate_error("listen = 7000\nbackend = \"h:1\"\n")
              .find("gate.toml:1: listen: expected a string, got an integer") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\nallow = \"::1\"\n")
              .find("gate.toml:5: layer[0].allow: expected an array of strings, got a string") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\nallow = [\"::1\", 3]\n")
              .find("gate.toml:5: layer[0].allow: expected an array of strings") != std::string::npos);
    CHECK(gate_error(minimal_gate + "layer = \"ip_filter\"\n")
              .find("gate.toml:3: layer: expected an array of tables") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = 3\n")
              .find("gate.toml:4: layer[0].kind: expected a string, got an integer") != std::string::npos);
    CHECK(gate_error(minimal_gate + "max_connections = 0\n")
              .find("gate.toml:3: max_connections: must be between 1 and") != std::string::npos);
}

TEST_CASE("errors name file:line:key: missing required key") {
    CHECK(gate_error("backend = \"h:1\"\n").find("gate.toml:1: listen: missing required key") != std::string::npos);
    CHECK(gate_error("listen = \":1\"\n").find("gate.toml:1: backend: missing required key") != std::string::npos);
    CHECK(tunnel_error("listen = \":1\"\n").find("tunnel.toml:1: server: missing required key") != std::string::npos);
    CHECK(gate_error(minimal_gate + "\n[[layer]]\nmax = 3\n")
              .find("gate.toml:4: layer[0].kind: missing required key") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"connection_limit\"\n")
              .find("gate.toml:3: layer[0].max: missing required key") != std::string::npos);
}

TEST_CASE("errors name file:line:key: missing file") {
    test::TempDir dir;
    auto path = config_file(dir, minimal_gate + "audit_log = \"no/such/dir/audit.log\"\n");
    try {
        (void)load_gate_config(path);
        FAIL("loaded");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("gate.toml:3: audit_log: directory not found") != std::string::npos);
    }
    try {
        (void)load_gate_config(dir / "absent.toml");
        FAIL("loaded");
    } catch (const ConfigError& e) {
        CHECK(std::string(e.what()).find("absent.toml: config file not found") != std::string::npos);
    }
}

TEST_CASE("errors name file:line:key: bad duration") {
    CHECK(gate_error(minimal_gate + "handshake_timeout = \"10 s\"\n")
              .find("gate.toml:3: handshake_timeout: \"10 s\": unknown duration unit") != std::string::npos);
    CHECK(gate_error(minimal_gate + "handshake_timeout = \"fast\"\n").find("gate.toml:3: handshake_timeout:") !=
          std::string::npos);
    CHECK(gate_error(minimal_gate + "handshake_timeout = 0\n")
              .find("gate.toml:3: handshake_timeout: duration must be between") != std::string::npos);
    CHECK(gate_error(minimal_gate + "grace = 1.5\n")
              .find("gate.toml:3: grace: expected a duration") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"failure_throttle\"\nwindow = \"1500ms\"\n")
              .find("gate.toml:5: layer[0].window: must be whole seconds") != std::string::npos);
}

TEST_CASE("errors name file:line:key: bad address") {
    CHECK(gate_error("listen = \"localhost:7000\"\nbackend = \"h:1\"\n")
              .find("gate.toml:1: listen: \"localhost:7000\": listen needs a literal IP") != std::string::npos);
    CHECK(gate_error("listen = \"127.0.0.1:99999\"\nbackend = \"h:1\"\n").find("gate.toml:1: listen:") !=
          std::string::npos);
    CHECK(gate_error("listen = \":7000\"\nbackend = \"h:0\"\n")
              .find("gate.toml:2: backend: \"h:0\": port 0") != std::string::npos);
    CHECK(gate_error("listen = \":7000\"\nbackend = \"unix:\"\n")
              .find("gate.toml:2: backend: \"unix:\": empty Unix socket path") != std::string::npos);
    CHECK(tunnel_error("server = \"unix:/x\"\n").find("tunnel.toml:1: server:") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\nallow = [\"10.0.0.1/8\"]\n")
              .find("gate.toml:5: layer[0].allow:") != std::string::npos);
}

TEST_CASE("other refusals: syntax, empty rules, proxy_protocol, empty ip_filter") {
    CHECK(gate_error(minimal_gate + "listen = \"again\"\n").find("gate.toml:3: syntax error") != std::string::npos);
    // toml++ 3.3 asserts on these in debug builds (marzer/tomlplusplus#301);
    // the release library the command links reports them.
    CHECK(gate_error("[:").find("gate.toml:1: syntax error") != std::string::npos);
    CHECK(gate_error("[[[1]]]").find("gate.toml:1: syntax error") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[allow]]\n").find("gate.toml:3: allow[0]: a rule needs") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[allow]]\nkey_fingerprint = \"ssh-ed25519 AAAA\"\n")
              .find("gate.toml:4: allow[0].key_fingerprint: expected \"SHA256:") != std::string::npos);
    CHECK(gate_error(minimal_gate + "proxy_protocol = \"v1\"\n")
              .find("gate.toml:3: proxy_protocol: only \"v2\"") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\n")
              .find("gate.toml:3: layer[0]: ip_filter needs") != std::string::npos);
    CHECK(gate_error(minimal_gate + "user = \"\"\n").find("gate.toml:3: user: empty string") != std::string::npos);
}

TEST_CASE("non-ASCII is refused outside comments (toml++ 3.3 has undefined behaviour on it)") {
    CHECK(gate_error(minimal_gate + "user = \"J\xc3\xbcrgen\"\n")
              .find("gate.toml:3: non-ASCII character outside a comment") != std::string::npos);
    CHECK(gate_error("\"\xc3\xbc\" = 1\n").find("gate.toml:1: non-ASCII") != std::string::npos);
    CHECK(gate_error(minimal_gate + "user = \"\"\"a\\\n  \xd0\x90\"\"\"\n").find("gate.toml:4: non-ASCII") !=
          std::string::npos);
    CHECK(gate_error(minimal_gate + "user = 'it''s' # \xc3\xbc\n\xc3\xbc").find("gate.toml:4: non-ASCII") !=
          std::string::npos);
    CHECK(gate_error(minimal_gate + "user = \"\\\xc3\xbc\"\n").find("gate.toml:3: non-ASCII") != std::string::npos);
    CHECK(gate_error(minimal_gate + "user = \"\"\"a\"\"\"\"\" # \"\n\xc3\xbc = 1\n").find("gate.toml:4: non-ASCII") !=
          std::string::npos);

    test::TempDir dir;
    auto c = load_gate_config(config_file(dir, "# Z\xc3\xbcrich office \xe2\x80\x94 gate\n" + minimal_gate +
                                                   "user = \"J\\u00fcrgen # not a comment\" # J\xc3\xbcrgen\n"));
    CHECK(c.user == std::optional<std::string>("J\xc3\xbcrgen # not a comment"));
}

TEST_CASE("parse_duration and parse_endpoint") {
    CHECK(parse_duration("0s") == 0ms);
    CHECK(parse_duration("250ms") == 250ms);
    CHECK(parse_duration("10s") == 10s);
    CHECK(parse_duration("5m") == 5min);
    CHECK(parse_duration("2h") == 2h);
    CHECK(parse_duration("999999999h") == std::chrono::milliseconds(999999999LL * 3600000));
    for (const char* bad : {"", "s", "10", "-1s", "1.5s", "10 s", "10sec", "1234567890s", "1d"})
        CHECK_THROWS_AS(parse_duration(bad), std::invalid_argument);

    CHECK(parse_endpoint("7000", EndpointRole::listen).to_string() == "127.0.0.1:7000");
    CHECK(parse_endpoint("0.0.0.0:1", EndpointRole::listen).host == "0.0.0.0");
    CHECK(parse_endpoint("db:5432", EndpointRole::connect).host == "db");
    CHECK(parse_endpoint("unix:/a b", EndpointRole::backend).unix_path == "/a b");
    CHECK(parse_endpoint("unix:rel.sock", EndpointRole::backend).unix_path == "rel.sock");
    CHECK_THROWS_AS(parse_endpoint("rel.sock", EndpointRole::backend), std::invalid_argument);
    CHECK_THROWS_AS(parse_endpoint("/x", EndpointRole::connect), std::invalid_argument);
    CHECK_THROWS_AS(parse_endpoint("h:1", EndpointRole::listen), std::invalid_argument);
    CHECK_THROWS_AS(parse_endpoint("a b:1", EndpointRole::connect), std::invalid_argument);
    CHECK_THROWS_AS(parse_endpoint("unix:/" + std::string(200, 'x'), EndpointRole::backend), std::invalid_argument);
}
