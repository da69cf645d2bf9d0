// The password kinds from config files: keys, errors, warnings, reload, and
// a gate's ip_filter | secure_channel | public_key | password against a
// tunnel's chain, with [[allow]] matching the user the password proved.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <cstdlib>

#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/password/user_database.hpp>
#include "tests/config/config_fixture.hpp"

using namespace config_fixture;
using namespace asio::experimental::awaitable_operators;

// Its own namespace: the config tests each run their own handshake helper
// and fixture, and a unity build compiles them into one TU.
namespace config_password_test {

namespace {

constexpr userdb::Argon2Params quick{64, 1, 1};

struct Files {
    test::TempDir dir;
    Files() {
        openssh::write_keypair(dir / "host", "host", std::nullopt);
        openssh::write_keypair(dir / "id", "client", std::nullopt);
        test::write_file(dir / "authorized_keys", test::read_file(dir / "id.pub"));
        test::write_file(dir / "known_hosts", "[127.0.0.1]:7000 " + test::read_file(dir / "host.pub"));
        test::write_file(dir / "users",
                         "alice:" + userdb::hash_password("correct horse", quick) + "\n" +
                             "bob:" + userdb::hash_password("battery staple", quick) + "\n",
                         0600);
        test::write_file(dir / "alice.pw", "correct horse\n", 0600);
        test::write_file(dir / "bob.pw", "battery staple\n", 0600);
        test::write_file(dir / "wrong.pw", "wrong\n", 0600);
    }
    GateConfig gate(const std::string& password_keys = "", const std::string& allow = "") const {
        test::write_file(dir / "gate.toml", "listen = \"127.0.0.1:7000\"\nbackend = \"127.0.0.1:8000\"\n" + allow +
                                                "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.0/8\"]\n"
                                                "[[layer]]\nkind = \"secure_channel\"\n"
                                                "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                                                "authorized_keys = \"authorized_keys\"\n"
                                                "[[layer]]\nkind = \"password\"\nusers = \"users\"\n" +
                                                password_keys);
        return load_gate_config(dir / "gate.toml");
    }
    TunnelConfig tunnel(const std::string& password_keys) const {
        test::write_file(dir / "tunnel.toml", "server = \"127.0.0.1:7000\"\n"
                                              "[[layer]]\nkind = \"secure_channel\"\n"
                                              "[[layer]]\nkind = \"public_key\"\nidentity = \"id\"\n"
                                              "known_hosts = \"known_hosts\"\n"
                                              "[[layer]]\nkind = \"password\"\n" + password_keys);
        return load_tunnel_config(dir / "tunnel.toml");
    }
    std::string gate_error(const std::string& password_keys) const {
        try {
            (void)gate(password_keys);
        } catch (const ConfigError& e) {
            return e.what();
        }
        FAIL("no ConfigError for " << password_keys);
        return {};
    }
    std::string tunnel_error(const std::string& password_keys) const {
        try {
            (void)tunnel(password_keys);
        } catch (const ConfigError& e) {
            return e.what();
        }
        FAIL("no ConfigError for " << password_keys);
        return {};
    }
};

struct Result {
    std::optional<AuthenticationError> server, client;
    std::string user;
};

asio::awaitable<void> run_side(const Authenticator& chain, Stream stream, std::optional<AuthenticationError>& error,
                               std::string* user) {
    try {
        Session s = co_await chain(start_session(std::move(stream)));
        if (user) *user = s.credentials.user.value_or("");
        char byte = 0;  // hold the stream until the peer is done
        co_await write_all(s.stream, asio::buffer(&byte, 1));
        co_await read_exact(s.stream, asio::buffer(&byte, 1), "end");
    } catch (const AuthenticationError& e) {
        error = e;
    } catch (const std::exception&) {
    }
}

Result handshake(const GateConfig& gate, const TunnelConfig& tunnel) {
    Result r;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await (run_side(gate.chain, std::move(s), r.server, &r.user) &&
                  run_side(tunnel.chain, std::move(c), r.client, nullptr));
    });
    return r;
}

}  // namespace

TEST_CASE("config password: gate and tunnel chains with password authenticate; a wrong password is denied") {
    Files f;
    GateConfig gate = f.gate("min_memory_kib = 64\nmin_iterations = 1\nmax_concurrent_checks = 3\n");
    CHECK(gate.layer_names == std::vector<std::string>{"ip_filter", "secure_channel", "public_key", "password"});
    REQUIRE(gate.reloadables.size() == 2);
    CHECK(gate.reloadables[1]->name() == "layer[3] password: users " + (f.dir / "users").string());
    CHECK(gate.reloadables[1]->warnings().empty());
    CHECK(chain_authenticates({"password"}));

    auto ok = handshake(gate, f.tunnel("user = \"alice\"\npassword_file = \"alice.pw\"\n"));
    CHECK_FALSE(ok.server);
    CHECK_FALSE(ok.client);
    CHECK(ok.user == "alice");

    auto wrong = handshake(gate, f.tunnel("user = \"alice\"\npassword_file = \"wrong.pw\"\n"));
    REQUIRE(wrong.server);
    CHECK(wrong.server->reason() == DenyReason::denied);
    REQUIRE(wrong.client);
    CHECK(wrong.client->detail().find("wrong password or unknown user") != std::string::npos);
}

TEST_CASE("config password: [[allow]] user matches the user the password proved") {
    Files f;
    GateConfig gate = f.gate("min_memory_kib = 64\n", "[[allow]]\nuser = \"alice\"\n");
    auto alice = handshake(gate, f.tunnel("user = \"alice\"\npassword_file = \"alice.pw\"\n"));
    CHECK_FALSE(alice.server);
    CHECK(alice.user == "alice");
    auto bob = handshake(gate, f.tunnel("user = \"bob\"\npassword_file = \"bob.pw\"\n"));  // right password
    REQUIRE(bob.server);
    CHECK(bob.server->reason() == DenyReason::denied);
    CHECK(bob.server->detail().find("allow") != std::string::npos);
}

TEST_CASE("config password: weak hashes and allow_plaintext are reported; reload keeps the old file on error") {
    Files f;
    GateConfig gate = f.gate("allow_plaintext = true\n");  // the default minimum: OWASP's
    auto w = gate.reloadables.at(1)->warnings();
    REQUIRE(w.size() == 3);
    CHECK(w[0] == "layer[3]: allow_plaintext = true: passwords may cross the network in clear");
    CHECK(w[1].find("user \"alice\": m=64 KiB, t=1, p=1 is weaker than the minimum m=19456 KiB, t=2") !=
          std::string::npos);

    std::filesystem::permissions(f.dir / "users", std::filesystem::perms(0666));
    CHECK_THROWS_AS(gate.reloadables.at(1)->reload(), std::runtime_error);
    std::filesystem::permissions(f.dir / "users", std::filesystem::perms(0600));
    auto still = handshake(gate, f.tunnel("user = \"alice\"\npassword_file = \"alice.pw\"\n"));
    CHECK_FALSE(still.server);

    test::write_file(f.dir / "users", "alice:" + userdb::hash_password("new horse", quick) + "\n", 0600);
    gate.reloadables.at(1)->reload();
    auto old = handshake(gate, f.tunnel("user = \"alice\"\npassword_file = \"alice.pw\"\n"));
    REQUIRE(old.server);
    CHECK(old.server->reason() == DenyReason::denied);
}

TEST_CASE("config password: gate key errors name the key") {
    Files f;
    CHECK(f.gate_error("bogus = 1\n").find("layer[3].bogus: unknown key") != std::string::npos);
    CHECK(f.gate_error("min_memory_kib = 4\n").find("layer[3].min_memory_kib") != std::string::npos);
    CHECK(f.gate_error("max_concurrent_checks = 0\n").find("layer[3].max_concurrent_checks") != std::string::npos);
    CHECK(f.gate_error("max_concurrent_checks = 65\n").find("layer[3].max_concurrent_checks") != std::string::npos);
    CHECK(f.gate_error("allow_plaintext = \"yes\"\n").find("layer[3].allow_plaintext") != std::string::npos);
    std::filesystem::permissions(f.dir / "users", std::filesystem::perms(0644));
    CHECK(f.gate_error("").find("layer[3].users: Permissions 0644") != std::string::npos);
    std::filesystem::remove(f.dir / "users");
    CHECK(f.gate_error("").find("layer[3].users: file not found") != std::string::npos);
}

TEST_CASE("config password: tunnel keys: one password source, a secret file, an environment variable named explicitly") {
    Files f;
    CHECK(f.tunnel_error("password_file = \"alice.pw\"\n").find("layer[2].user: missing required key") !=
          std::string::npos);
    CHECK(f.tunnel_error("user = \"al ice\"\npassword_file = \"alice.pw\"\n").find("layer[2].user: user name") !=
          std::string::npos);
    // Neither source: refused (not a terminal here, so no prompt).
    CHECK(f.tunnel_error("user = \"alice\"\n").find("layer[2].password_file: missing: give password_file or "
                                                     "password_env") != std::string::npos);
    CHECK(f.tunnel_error("user = \"alice\"\npassword_file = \"alice.pw\"\npassword_env = \"PW\"\n")
              .find("give either password_file or password_env") != std::string::npos);
    std::filesystem::permissions(f.dir / "alice.pw", std::filesystem::perms(0644));
    CHECK(f.tunnel_error("user = \"alice\"\npassword_file = \"alice.pw\"\n").find("layer[2].password_file") !=
          std::string::npos);
    std::filesystem::permissions(f.dir / "alice.pw", std::filesystem::perms(0600));
    CHECK(f.tunnel_error("user = \"alice\"\npassword_env = \"1BAD\"\n").find("not an environment variable name") !=
          std::string::npos);
    ::unsetenv("AUTHCHAIN_TEST_PASSWORD_UNSET");
    CHECK(f.tunnel_error("user = \"alice\"\npassword_env = \"AUTHCHAIN_TEST_PASSWORD_UNSET\"\n")
              .find("environment variable AUTHCHAIN_TEST_PASSWORD_UNSET is not set") != std::string::npos);

    ::setenv("AUTHCHAIN_TEST_PASSWORD", "correct horse", 1);
    GateConfig gate = f.gate("min_memory_kib = 64\n");
    auto by_env = handshake(gate, f.tunnel("user = \"alice\"\npassword_env = \"AUTHCHAIN_TEST_PASSWORD\"\n"));
    ::unsetenv("AUTHCHAIN_TEST_PASSWORD");
    CHECK_FALSE(by_env.server);
    CHECK(by_env.user == "alice");
}

TEST_CASE("config password: the tunnel refuses a server that proved nothing unless allow_unauthenticated_server") {
    Files f;
    GateConfig gate = f.gate();
    test::write_file(f.dir / "plain.toml", "server = \"127.0.0.1:7000\"\n"
                                           "[[layer]]\nkind = \"secure_channel\"\n"
                                           "[[layer]]\nkind = \"password\"\nuser = \"alice\"\n"
                                           "password_file = \"alice.pw\"\n");
    TunnelConfig tunnel = load_tunnel_config(f.dir / "plain.toml");
    auto r = handshake(gate, tunnel);
    REQUIRE(r.client);
    CHECK(r.client->detail().find("the server has not proved its identity") != std::string::npos);
    test::write_file(f.dir / "plain.toml", test::read_file(f.dir / "plain.toml") + "allow_unauthenticated_server = true\n");
    CHECK_NOTHROW((void)load_tunnel_config(f.dir / "plain.toml"));
}

}  // namespace config_password_test
