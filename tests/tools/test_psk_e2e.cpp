// End to end with real processes and redis-server: a gate with
// any_of(public_key, psk), and psk on plain TCP.
//
//   redis-cli -> tunnel (secure_channel | any_of(...)) -> gate (secure_channel | any_of(public_key, psk)) -> redis
#include "tests/tools/gate_fixture.hpp"

namespace {

const std::string any_of_gate = "[[layer]]\nkind = \"secure_channel\"\n"
                                "[[layer]]\nkind = \"any_of\"\n"
                                "[[layer.method]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                                "authorized_keys = \"authorized_keys\"\n"
                                "[[layer.method]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n";

void keygen_psk(Setup& s, const std::string& file, const std::string& id) {
    std::string out;
    REQUIRE_MESSAGE(shell(s.bin + " keygen --psk " + q(s.dir / file) + " --id " + id, &out) == 0, out);
}

}  // namespace

TEST_CASE("psk e2e: keygen --psk writes a private key file once") {
    Setup s;
    keygen_psk(s, "k.psk", "gate-1");
    CHECK((std::filesystem::status(s.dir / "k.psk").permissions() & std::filesystem::perms::all) ==
          (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
    CHECK(read_file(s.dir / "k.psk").find("\ngate-1:") != std::string::npos);
    std::string out;
    CHECK(shell(s.bin + " keygen --psk " + q(s.dir / "k.psk") + " 2>&1", &out) == 2);
    CHECK(out.find("already exists") != std::string::npos);
}

TEST_CASE("psk e2e: any_of(public_key, psk): a client without a key gets in by psk, one with neither is denied" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    keygen_psk(s, "gate.psk", "team");
    keygen_psk(s, "wrong.psk", "team");
    write_file(s.dir / "tunnel.psk", read_file(s.dir / "gate.psk"), 0600);
    auto gate = s.gate(s.gate_config(redis.backend(), "", any_of_gate));

    auto by_psk = s.tunnel(s.tunnel_config_with("by_psk", "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"any_of\"\n"
                                                    "[[layer.method]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\n"));
    CHECK(cli(by_psk.port, "ping") == "PONG");

    auto by_key = s.tunnel(s.tunnel_config_with("by_key", "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"any_of\"\n"
                                                    "[[layer.method]]\nkind = \"public_key\"\nidentity = \"client\"\n"
                                                    "known_hosts = \"known_hosts\"\n"));
    CHECK(cli(by_key.port, "ping") == "PONG");

    auto neither = s.tunnel(s.tunnel_config_with("neither", "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"any_of\"\n"
                                                      "[[layer.method]]\nkind = \"public_key\"\nidentity = \"stranger\"\n"
                                                      "known_hosts = \"known_hosts\"\n"
                                                      "[[layer.method]]\nkind = \"psk\"\nkey_file = \"wrong.psk\"\n"));
    long before = redis.info("total_connections_received");
    int rc = 0;
    CHECK(cli(neither.port, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    CHECK(redis.info("total_connections_received") == before + 1);  // only our INFO

    auto lines = wait_audit(s.dir / "gate-audit.log", 3);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].at("verdict") == "accepted");
    CHECK(lines[0].at("identity").at("psk_id") == "team");
    CHECK(lines[1].at("verdict") == "accepted");
    CHECK(lines[1].at("identity").at("key_fingerprint") == s.fingerprint("client"));
    CHECK(lines[2].at("verdict") == "denied");
}

TEST_CASE("psk e2e: a psk tunnel on plain TCP works, and gate and tunnel warn" * doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    keygen_psk(s, "gate.psk", "plain");
    write_file(s.dir / "tunnel.psk", read_file(s.dir / "gate.psk"), 0600);
    auto gate = s.gate(s.gate_config(redis.backend(), "[[allow]]\npsk_id = \"plain\"\n",
                                     "[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\nallow_plaintext = true\n"));
    auto tunnel = s.tunnel(s.tunnel_config_with("plain", "[[layer]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\n"
                                                   "allow_plaintext = true\n"));
    CHECK(cli(tunnel.port, "ping") == "PONG");
    CHECK(read_file(s.dir / "gate.out").find("WARNING: allow_plaintext = true: on a stream that is not encrypted") !=
          std::string::npos);
    CHECK(read_file(s.dir / "plain.out").find("WARNING: allow_plaintext = true") != std::string::npos);
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("identity").at("psk_id") == "plain");
}
