// End to end with real processes: redis-server behind a gate whose chain is
//   ip_filter | secure_channel | public_key | password
// reached through tunnels that know the right and a wrong password. The
// user database is written by `authchain passwd`.
#include "tests/tools/gate_fixture.hpp"

namespace {

const std::string password_layers =
    "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.1/32\"]\n"
    "[[layer]]\nkind = \"secure_channel\"\n"
    "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n"
    "[[layer]]\nkind = \"password\"\nusers = \"users\"\nmin_memory_kib = 64\nmin_iterations = 1\n";

// A user database with alice, written by the command (cheap Argon2 parameters).
void add_user(Setup& s, const std::string& user, const std::string& pw) {
    std::string out;
    int rc = shell("printf '%s\\n' '" + pw + "' | " + s.bin + " passwd " + q(s.dir / "users") + " add " + user +
                       " -m 64 -t 1",
                   &out);
    REQUIRE_MESSAGE(rc == 0, out);
}

// A tunnel to the running gate: secure_channel | public_key | password.
std::filesystem::path password_tunnel(Setup& s, const std::string& name, const std::string& user,
                                      const std::string& pw) {
    write_file(s.dir / (name + ".pw"), pw + "\n", 0600);
    return s.tunnel_config_with(
        name, "[[layer]]\nkind = \"secure_channel\"\n"
              "[[layer]]\nkind = \"public_key\"\nidentity = \"client\"\nknown_hosts = \"known_hosts\"\n"
              "[[layer]]\nkind = \"password\"\nuser = \"" + user + "\"\npassword_file = \"" + name + ".pw\"\n");
}

}  // namespace

TEST_CASE("password e2e: the right password reaches redis, the user is in the audit log" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    add_user(s, "alice", "correct horse");
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "", password_layers));
    auto tunnel = s.tunnel(password_tunnel(s, "good", "alice", "correct horse"));

    CHECK(cli(tunnel.port, "ping") == "PONG");
    CHECK(cli(tunnel.port, "set who alice") == "OK");
    CHECK(trim(redis.cli("get who")) == "alice");

    auto lines = wait_audit(s.dir / "gate-audit.log", 2);
    REQUIRE(lines.size() == 2);
    for (const auto& j : lines) {
        CHECK(j.at("verdict") == "accepted");
        CHECK(j.at("identity").at("user") == "alice");
        CHECK(j.at("identity").at("key_fingerprint") == s.fingerprint("client"));
        auto layers = j.at("layers").get<std::vector<std::string>>();
        CHECK(layers.back() == "password");
    }
    // The weak test parameters pass the gate's lowered minimum: no warning at start.
    CHECK(read_file(s.dir / "gate.out").find("WARNING") == std::string::npos);
}

TEST_CASE("password e2e: a wrong password is denied and redis never sees a connection" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    add_user(s, "alice", "correct horse");
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "", password_layers));
    auto bad = s.tunnel(password_tunnel(s, "bad", "alice", "wrong horse"));

    long before = redis.info("total_connections_received");
    int rc = 0;
    std::string out = cli(bad.port, "ping", &rc);
    CHECK(out != "PONG");
    CHECK(rc != 0);
    CHECK(redis.info("total_connections_received") == before + 1);  // only our INFO

    auto gate_lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(gate_lines.size() == 1);
    CHECK(gate_lines[0].at("verdict") == "denied");
    CHECK(gate_lines[0].at("reason") == "denied");
    CHECK(gate_lines[0].at("detail").get<std::string>().find("password for user \"alice\": wrong password") !=
          std::string::npos);
    auto bad_lines = wait_audit(s.dir / "bad-audit.log", 1);
    REQUIRE(bad_lines.size() == 1);
    CHECK(bad_lines[0].at("verdict") == "denied");
    CHECK(bad_lines[0].at("reason") == "denied");

    // probe says why, in the client's words: 3 for the wrong password, 0 for the right one.
    std::string probe_out;
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "bad.toml") + " </dev/null", &probe_out) == 3);
    CHECK(probe_out.find("denied: denied\n") != std::string::npos);
    CHECK(probe_out.find("wrong password or unknown user") != std::string::npos);
    password_tunnel(s, "good", "alice", "correct horse");
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "good.toml") + " </dev/null", &probe_out) == 0);
    CHECK(probe_out.ends_with("\nok\n"));
}

TEST_CASE("password e2e: probe on a terminal asks for the password without echo" *
          doctest::skip(skip_without_redis() || skip_missing({"script"}))) {
    require_redis();
    require_tools({"script"});
    Setup s;
    add_user(s, "alice", "correct horse");
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "", password_layers));
    auto config = password_tunnel(s, "asks", "alice", "unused");
    std::string text = read_file(config);
    text.replace(text.find("password_file"), std::string::npos, "\n");  // neither source: probe asks
    write_file(config, text);
    // script(1) gives probe a terminal; the password is typed only once the
    // prompt shows (bounded wait), as a person would.
    auto fifo = s.dir / "typed", out = s.dir / "terminal.out";
    REQUIRE(shell("mkfifo " + q(fifo)) == 0);
    std::string run = "cd " + q(s.dir.path()) + " && "
                      "(timeout 30 script -qec \"" + s.bin + " probe --config asks.toml\" /dev/null < " + q(fifo) +
                      " > " + q(out) + " 2>&1; echo $? > status) & "
                      "exec 3> " + q(fifo) + "; "
                      "for i in $(seq 200); do grep -q 'Password for alice' " + q(out) + " 2>/dev/null && break; "
                      "sleep 0.05; done; "
                      "printf 'correct horse\\n' >&3; exec 3>&-; wait";
    REQUIRE(shell(run) == 0);
    std::string terminal = read_file(out);
    INFO(terminal);
    CHECK(terminal.find("Password for alice at 127.0.0.1:" + std::to_string(s.gate_port) + ": ") != std::string::npos);
    CHECK(terminal.find("\nok") != std::string::npos);
    CHECK(terminal.find("correct horse") == std::string::npos);  // never echoed
    CHECK(trim(read_file(s.dir / "status")) == "0");
}

TEST_CASE("password e2e: any_of(public_key, password): a client without a key gets in by password, one with "
          "neither is denied" * doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    add_user(s, "alice", "correct horse");
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "",
                                     "[[layer]]\nkind = \"secure_channel\"\n"
                                     "[[layer]]\nkind = \"any_of\"\n"
                                     "[[layer.method]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                                     "authorized_keys = \"authorized_keys\"\n"
                                     "[[layer.method]]\nkind = \"password\"\nusers = \"users\"\n"
                                     "min_memory_kib = 64\nmin_iterations = 1\n"));
    auto tunnel_with = [&](const std::string& name, const std::string& methods) {
        return s.tunnel(s.tunnel_config_with(
            name, "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"any_of\"\n" + methods));
    };
    write_file(s.dir / "right.pw", "correct horse\n", 0600);
    write_file(s.dir / "wrong.pw", "battery staple\n", 0600);
    // No user key: the gate's host key is not proven either, so the client
    // must opt in to sending its password to an unproven server by name.
    auto by_password = tunnel_with("by_password", "[[layer.method]]\nkind = \"password\"\nuser = \"alice\"\n"
                                                  "password_file = \"right.pw\"\nallow_unauthenticated_server = true\n");
    CHECK(cli(by_password.port, "ping") == "PONG");

    // A key the gate does not know, then a wrong password: two failed methods.
    auto neither = tunnel_with("neither", "[[layer.method]]\nkind = \"public_key\"\nidentity = \"stranger\"\n"
                                          "known_hosts = \"known_hosts\"\n"
                                          "[[layer.method]]\nkind = \"password\"\nuser = \"alice\"\n"
                                          "password_file = \"wrong.pw\"\nallow_unauthenticated_server = true\n");
    long before = redis.info("total_connections_received");
    int rc = 0;
    CHECK(cli(neither.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    CHECK(redis.info("total_connections_received") == before + 1);  // only our INFO

    auto lines = wait_audit(s.dir / "gate-audit.log", 2);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].at("verdict") == "accepted");
    CHECK(lines[0].at("identity").at("user") == "alice");
    CHECK(lines[1].at("verdict") == "denied");
}
