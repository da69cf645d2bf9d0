// tools/config: good files parse into the right structures and chains.
#include "tests/config/config_fixture.hpp"

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

TEST_CASE("max_connections_per_source: the top-level per-source share, 0 (max_connections / 8) by default") {
    test::TempDir dir;
    CHECK(load_gate_config(config_file(dir, minimal_gate)).max_connections_per_source == 0);
    auto c = load_gate_config(config_file(dir, minimal_gate + "max_connections_per_source = 4\n"));
    CHECK(c.max_connections_per_source == 4);
    CHECK(gate_error(minimal_gate + "max_connections_per_source = 0\n")
              .find("max_connections_per_source: must be between 1 and") != std::string::npos);
}

TEST_CASE("connection_limit max_per_source: one source past its share is busy, another still passes") {
    test::TempDir dir;
    auto c = load_gate_config(
        config_file(dir, minimal_gate + "[[layer]]\nkind = \"connection_limit\"\nmax = 10\nmax_per_source = 1\n"));
    auto reasons = test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::string>> {
        PipeOptions a, b;
        a.client.endpoint = {asio::ip::make_address("192.0.2.1"), 40000};
        b.client.endpoint = {asio::ip::make_address("198.51.100.1"), 40000};
        auto [c1, s1] = make_pipe(ex, a);
        auto [c2, s2] = make_pipe(ex, a);
        auto [c3, s3] = make_pipe(ex, b);
        std::vector<std::string> out;
        Session first = co_await c.chain(start_session(std::move(s1)));
        try {
            Session second = co_await c.chain(start_session(std::move(s2)));
            out.push_back("second passed");
        } catch (const AuthenticationError& e) {
            out.push_back(std::string(to_string(e.reason())));
        }
        Session third = co_await c.chain(start_session(std::move(s3)));
        out.push_back("other source passed");
        co_return out;
    });
    CHECK(reasons == std::vector<std::string>{std::string(to_string(DenyReason::busy)), "other source passed"});
}
