// config/registry: each kind declares its keys once and reads exactly them;
// the registry says which kinds authenticate; every built layer is a
// Wrapper, so a wrapping kind wraps only what follows it; kinds may hold
// nested layer tables built by the same rules.
#include <toml++/toml.h>

#include <algorithm>
#include <map>

#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/tls_ca.hpp>
#include "tests/config/config_fixture.hpp"

namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// A minimal valid table of every built-in kind, key files in `dir`.
struct Samples {
    test::TempDir dir;
    Samples() {
        openssh::write_keypair(dir / "host", "host", std::nullopt);
        openssh::write_keypair(dir / "id", "id", std::nullopt);
        test::write_file(dir / "authorized_keys", test::read_file(dir / "id.pub"));
        test::write_file(dir / "known_hosts", "[127.0.0.1]:7000 " + test::read_file(dir / "host.pub"));
        test::write_file(dir / "psk", "k:" + std::string(44, 'A') + "\n", 0600);
        test::write_file(dir / "users", "", 0600);
        test::write_file(dir / "pw", "secret\n", 0600);
        authchain::ca::Authority a = authchain::ca::make_authority();
        test::write_file(dir / "ca.crt", a.certificate_pem());
        authchain::ca::write_issued(dir.path(), "tls", authchain::ca::issue(a, {.name = "127.0.0.1", .purpose = authchain::ca::Purpose::server,
                                                            .ip = {"127.0.0.1"}}));
    }
    std::optional<std::string> of(Side side, const std::string& kind) const {
        const std::map<std::pair<Side, std::string>, std::string> samples{
            {{Side::server, "ip_filter"}, "allow = [\"::1\"]\n"},
            {{Side::server, "connection_limit"}, "max = 1\n"},
            {{Side::server, "failure_throttle"}, ""},
            {{Side::server, "secure_channel"}, ""},
            {{Side::server, "public_key"}, "host_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n"},
            {{Side::client, "secure_channel"}, ""},
            {{Side::client, "public_key"}, "identity = \"id\"\nknown_hosts = \"known_hosts\"\n"},
            {{Side::server, "psk"}, "keys = \"psk\"\n"},
            {{Side::client, "psk"}, "key_file = \"psk\"\n"},
            {{Side::server, "any_of"}, "method = [{kind = \"psk\", keys = \"psk\"}]\n"},
            {{Side::client, "any_of"}, "method = [{kind = \"psk\", key_file = \"psk\"}]\n"},
            {{Side::server, "password"}, "users = \"users\"\n"},
            {{Side::client, "password"}, "user = \"alice\"\npassword_file = \"pw\"\n"},
            {{Side::server, "tls"}, "cert = \"tls.crt\"\nkey = \"tls.key\"\nca = \"ca.crt\"\n"},
            {{Side::client, "tls"}, "ca = \"ca.crt\"\n"},
            {{Side::server, "resumption"}, ""},
            {{Side::client, "resumption"}, ""},
        };
        auto it = samples.find({side, kind});
        if (it == samples.end()) return std::nullopt;
        return "kind = \"" + kind + "\"\n" + it->second;
    }
    LayerContext context(Side side) const {
        return LayerContext{.side = side, .server_host = "127.0.0.1", .server_port = 7000, .registry = nullptr};
    }
};

struct Built {
    BuiltLayer layer;
    std::vector<std::string> asked;
};

// Builds one layer table from `text` as layer[0] of t.toml.
Built build_one(const std::string& text, const LayerContext& context, const std::filesystem::path& dir) {
    toml::table table = toml::parse(text, std::string_view("t.toml"));
    TableReader r(table, "t.toml", "layer[0]", dir);
    BuiltLayer layer = build_layer(r, context);
    return {std::move(layer), r.asked()};
}

std::string build_error(const std::string& text, const LayerContext& context, const std::filesystem::path& dir) {
    try {
        (void)build_one(text, context, dir);
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for:\n" << text);
    return {};
}

// Test kinds: `mark` notes its name (or refuses), `watch` wraps the rest and
// records what it saw, `all_of` runs its nested [[layer.method]] in order.
struct Watch {
    int entries = 0, failures = 0;
    std::vector<std::string> entered_after, left_after;
};

asio::awaitable<Session> run_mark(std::string name, bool refuse, Session s) {
    if (refuse) deny(DenyReason::denied, name + " refuses");
    s.credentials.note(name, "passed");
    co_return s;
}

asio::awaitable<Session> run_watch(std::shared_ptr<Watch> watch, Authenticator inner, Session s) {
    ++watch->entries;
    watch->entered_after = s.credentials.layers();
    try {
        Session out = co_await inner(std::move(s));
        watch->left_after = out.credentials.layers();
        co_return out;
    } catch (const AuthenticationError&) {
        ++watch->failures;
        throw;
    }
}

Registry test_registry(std::shared_ptr<Watch> watch) {
    Registry registry;
    registry.add({.name = "mark", .side = Side::server, .keys = {"name", "refuse"},
                  .build = [](TableReader& r, const LayerContext&) {
                      auto name = r.required_string("name");
                      bool refuse = r.boolean("refuse").value_or(false);
                      return before_rest(
                          [name, refuse](Session s) { return run_mark(name, refuse, std::move(s)); });
                  }});
    registry.add({.name = "watch", .side = Side::server, .keys = {},
                  .build = [watch](TableReader&, const LayerContext&) {
                      return around_rest(Wrapper([watch](Authenticator inner) -> Authenticator {
                          return [watch, inner](Session s) { return run_watch(watch, inner, std::move(s)); };
                      }));
                  }});
    registry.add({.name = "all_of", .side = Side::server, .keys = {"method"}, .authenticates = true,
                  .build = [](TableReader& r, const LayerContext& context) {
                      Wrapper all = identity();
                      for (auto& method : context.nested_layers(r, "method")) all = all | method.wrapper;
                      return around_rest(all);
                  }});
    registry.add({.name = "reads_undeclared", .side = Side::server, .keys = {"a"},
                  .build = [](TableReader& r, const LayerContext&) {
                      (void)r.string("a");
                      (void)r.string("b");
                      return before_rest(pass());
                  }});
    registry.add({.name = "ignores_declared", .side = Side::server, .keys = {"a"},
                  .build = [](TableReader&, const LayerContext&) { return before_rest(pass()); }});
    return registry;
}

Chain chain_from(const std::string& text, const Registry& registry) {
    toml::table root = toml::parse(text, std::string_view("t.toml"));
    TableReader top(root, "t.toml", "", ".");
    LayerContext context{.side = Side::server, .server_host = {}, .server_port = 0, .registry = &registry};
    return build_chain(top, top.tables("layer"), context);
}

std::string chain_error(const std::string& text, const Registry& registry) {
    try {
        (void)chain_from(text, registry);
    } catch (const ConfigError& e) {
        return e.what();
    }
    FAIL("no ConfigError for:\n" << text);
    return {};
}

}  // namespace

TEST_CASE("every built-in kind reads exactly the keys it declares") {
    Samples s;
    for (Side side : {Side::server, Side::client}) {
        for (const LayerKind* kind : built_in_registry().kinds(side)) {
            CAPTURE(kind->name);
            auto sample = s.of(side, kind->name);
            REQUIRE_MESSAGE(sample, "add a minimal table of the new kind to Samples");
            std::vector<std::string> declared{"kind"};
            declared.insert(declared.end(), kind->keys.begin(), kind->keys.end());
            std::sort(declared.begin(), declared.end());
            Built built = build_one(*sample, s.context(side), s.dir.path());
            CHECK(built.asked == declared);
            CHECK(built.layer.kind == kind->name);
        }
    }
}

TEST_CASE("a key outside a kind's declaration is refused, listing the declared keys") {
    Samples s;
    for (Side side : {Side::server, Side::client}) {
        for (const LayerKind* kind : built_in_registry().kinds(side)) {
            CAPTURE(kind->name);
            auto e = build_error(*s.of(side, kind->name) + "zzz = 1\n", s.context(side), s.dir.path());
            std::vector<std::string> known{"kind"};
            known.insert(known.end(), kind->keys.begin(), kind->keys.end());
            CHECK(e.find("layer[0].zzz: unknown key (known here: " + joined(known) + ")") != std::string::npos);
        }
    }
}

TEST_CASE("a kind that reads an undeclared key, or ignores a declared one, is a bug, not a config error") {
    auto registry = test_registry(std::make_shared<Watch>());
    CHECK_THROWS_AS(chain_from("[[layer]]\nkind = \"reads_undeclared\"\n", registry), UndeclaredKey);
    CHECK_NOTHROW(chain_from("[[layer]]\nkind = \"ignores_declared\"\n", registry));
    CHECK_THROWS_AS(chain_from("[[layer]]\nkind = \"ignores_declared\"\na = 1\n", registry), UndeclaredKey);
}

TEST_CASE("the registry says which kinds authenticate") {
    for (Side side : {Side::server, Side::client})
        for (const LayerKind* kind : built_in_registry().kinds(side)) {
            CAPTURE(kind->name);
            CHECK(kind->authenticates == (kind->name == "public_key" || kind->name == "password" ||
                                          kind->name == "psk" || kind->name == "tls" || kind->name == "any_of"));
        }
    CHECK(chain_authenticates({"ip_filter", "secure_channel", "public_key"}));
    CHECK_FALSE(chain_authenticates({"ip_filter", "failure_throttle", "secure_channel"}));
    CHECK_FALSE(chain_authenticates({}));
    CHECK_FALSE(chain_authenticates({"no_such_kind"}));
    CHECK(chain_authenticates({"public_key"}, Side::client));
    CHECK(test_registry(nullptr).chain_authenticates({"mark", "all_of"}, Side::server));
}

TEST_CASE("kinds are listed per side in the order they were added; a name is added once per side") {
    CHECK(known_kinds(Side::server) ==
          "ip_filter, connection_limit, failure_throttle, secure_channel, public_key, resumption, password, psk, tls, "
          "any_of");
    CHECK(known_kinds(Side::client) == "secure_channel, public_key, resumption, password, psk, tls, any_of");
    CHECK(built_in_registry().find(Side::client, "ip_filter") == nullptr);
    Registry registry;
    registry.add({.name = "k", .side = Side::server, .keys = {}, .build = {}});
    registry.add({.name = "k", .side = Side::client, .keys = {}, .build = {}});
    CHECK_THROWS_AS(registry.add({.name = "k", .side = Side::server, .keys = {}, .build = {}}), std::logic_error);
}

TEST_CASE("a wrapper kind mid-chain wraps only the layers after it, the tail included") {
    auto watch = std::make_shared<Watch>();
    auto registry = test_registry(watch);
    const std::string a = "[[layer]]\nkind = \"mark\"\nname = \"a\"\n";
    const std::string w = "[[layer]]\nkind = \"watch\"\n";
    const std::string b = "[[layer]]\nkind = \"mark\"\nname = \"b\"\n";

    Chain chain = chain_from(a + w + b, registry);
    CHECK(chain.names == std::vector<std::string>{"mark", "watch", "mark"});
    auto layers = run_chain(chain.authenticator);
    CHECK(layers == std::vector<std::string>{"transport", "a", "b"});
    CHECK(watch->entered_after == std::vector<std::string>{"transport", "a"});
    CHECK(watch->left_after == std::vector<std::string>{"transport", "a", "b"});

    *watch = {};
    CHECK(refusal(chain_from(a + "refuse = true\n" + w + b, registry).authenticator) == DenyReason::denied);
    CHECK(watch->entries == 0);  // a refused before the wrapper ran

    CHECK(refusal(chain_from(a + w + b + "refuse = true\n", registry).authenticator) == DenyReason::denied);
    CHECK(watch->entries == 1);
    CHECK(watch->failures == 1);  // the wrapper saw b's verdict
}

TEST_CASE("a kind may hold nested layer tables, built by the same rules and named by their path") {
    auto registry = test_registry(std::make_shared<Watch>());
    const std::string all_of = "[[layer]]\nkind = \"all_of\"\n"
                               "[[layer.method]]\nkind = \"mark\"\nname = \"x\"\n"
                               "[[layer.method]]\nkind = \"mark\"\nname = \"y\"\n";
    Chain chain = chain_from(all_of + "[[layer]]\nkind = \"mark\"\nname = \"z\"\n", registry);
    CHECK(chain.names == std::vector<std::string>{"all_of", "mark"});
    CHECK(run_chain(chain.authenticator) == std::vector<std::string>{"transport", "x", "y", "z"});

    CHECK(chain_error(all_of + "[[layer.method]]\nkind = \"nope\"\n", registry)
              .find("t.toml:10: layer[0].method[2].kind: unknown kind \"nope\" (known server kinds: mark, watch, "
                    "all_of,") != std::string::npos);
    CHECK(chain_error(all_of + "colour = 1\n", registry)
              .find("t.toml:9: layer[0].method[1].colour: unknown key (known here: kind, name, refuse)") !=
          std::string::npos);
    CHECK(chain_error(all_of + "[[layer.method]]\nkind = \"mark\"\n", registry)
              .find("t.toml:9: layer[0].method[2].name: missing required key") != std::string::npos);
}

TEST_CASE("value rules live in their layer; config reports them at the key") {
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\nallow = [\"::1\"]\ndeny = [\"10.0.0.1/8\"]\n")
              .find("gate.toml:6: layer[0].deny: invalid CIDR \"10.0.0.1/8\"") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"ip_filter\"\nallow = [\"::1\", \"nonsense\"]\n")
              .find("gate.toml:5: layer[0].allow: invalid CIDR \"nonsense\"") != std::string::npos);
    CHECK(gate_error(minimal_gate + "[[layer]]\nkind = \"secure_channel\"\nsuites = []\n")
              .find("gate.toml:5: layer[0].suites: give 1 to 16 suites") != std::string::npos);
    CHECK(tunnel_error("server = \"h:1\"\n[[layer]]\nkind = \"secure_channel\"\nciphers = []\n")
              .find("tunnel.toml:4: layer[0].ciphers: give 1 to 16 suites") != std::string::npos);
}
