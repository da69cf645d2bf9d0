// End to end with OpenSSH certificates from `authchain ca ssh-sign`: the
// tunnel presents a user certificate (client-cert.pub next to its
// identity) and claims a user; the gate trusts the CA by a cert-authority
// line and presents a host certificate (host-cert.pub next to its host
// key) that the tunnel accepts by a @cert-authority line in known_hosts.
#include "tests/tools/gate_fixture.hpp"

namespace {

void sign(Setup& s, const std::string& args) {
    std::string out;
    INFO(out);
    REQUIRE(shell(s.bin + " ca ssh-sign -s " + q(s.dir / "ca") + " " + args + " 2>&1", &out) == 0);
}

}  // namespace

TEST_CASE("gate e2e: user and host certificates signed by authchain ca ssh-sign; [[allow]] by cert_key_id" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    s.keygen("ca", "ca");
    write_file(s.dir / "authorized_keys", "cert-authority " + read_file(s.dir / "ca.pub"), 0600);
    sign(s, "-I alice@corp -n alice " + q(s.dir / "client.pub"));
    sign(s, "-h -I gate -n 127.0.0.1 " + q(s.dir / "host.pub"));
    auto gate = s.gate(s.gate_config(redis.backend(), "[[allow]]\ncert_key_id = \"alice@corp\"\n"));
    // known_hosts trusts the CA only, not the host key itself.
    write_file(s.dir / "known_hosts", "@cert-authority [127.0.0.1]:* " + read_file(s.dir / "ca.pub"), 0600);
    auto config = s.tunnel_config("tunnel", "client");
    write_file(config, read_file(config) + "user = \"alice\"\n");
    auto tunnel = s.tunnel(config);

    CHECK(cli(tunnel.port, "ping") == "PONG");
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    const auto& id = lines[0].at("identity");
    CHECK(lines[0].at("verdict") == "accepted");
    CHECK(id.at("user") == "alice");
    CHECK(id.at("cert_key_id") == "alice@corp");
    CHECK(id.at("ssh_ca_fingerprint") == s.fingerprint("ca"));
    CHECK(id.at("key_fingerprint") == s.fingerprint("client"));
    CHECK(id.contains("ssh_cert_valid_before"));

    // A certificate with another key id is refused by [[allow]] and never reaches redis.
    sign(s, "-I someone-else -n alice " + q(s.dir / "client.pub"));
    write_file(s.dir / "tunnel2.toml", read_file(config));  // its own .out file, so its own port line
    auto other = s.tunnel(s.dir / "tunnel2.toml");
    int status = 0;
    cli(other.port, "ping", &status);
    auto after = wait_audit(s.dir / "gate-audit.log", 2);
    REQUIRE(after.size() == 2);
    INFO(after[1].dump());
    CHECK(after[1].at("verdict") != "accepted");
    CHECK(after[1].at("detail").get<std::string>().find("allow") != std::string::npos);
    gate->signal(SIGTERM);
    CHECK(gate->wait(std::chrono::seconds(15)) == std::optional<int>(0));
}
