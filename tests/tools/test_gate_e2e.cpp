// End to end, with real processes: redis-server behind `authchain gate`,
// reached through `authchain tunnel` with redis-cli.
//
//   redis-cli -> tunnel (secure_channel | public_key)
//             -> gate (ip_filter | secure_channel | public_key) -> redis-server
#include "tests/tools/gate_fixture.hpp"

TEST_CASE("gate e2e: redis through tunnel and gate: PING, SET/GET, a 10 MB value" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend()));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    std::uint16_t tport = tunnel.port;

    CHECK(cli(tport, "ping") == "PONG");
    CHECK(cli(tport, "set greeting hello") == "OK");
    CHECK(cli(tport, "get greeting") == "hello");

    // 10 MB of text (base64 of random bytes) in, and back out unchanged.
    auto big = s.dir / "big";
    REQUIRE(shell("head -c 7500000 /dev/urandom | base64 -w0 > " + q(big)) == 0);
    REQUIRE(std::filesystem::file_size(big) == 10000000);
    CHECK(cli(tport, "-x set big < " + q(big)) == "OK");
    CHECK(cli(tport, "strlen big") == "10000000");
    std::string direct, through;
    shell("redis-cli -s " + q(redis.socket()) + " get big | sha256sum", &direct);
    shell("redis-cli -p " + std::to_string(tport) + " get big | sha256sum", &through);
    std::string expected;
    shell("(cat " + q(big) + "; echo) | sha256sum", &expected);
    CHECK(through == expected);
    CHECK(direct == expected);

    // One audit line per connection, with the identity the chain proved.
    auto lines = wait_audit(s.dir / "gate-audit.log", 6);
    REQUIRE(lines.size() == 6);
    std::string fp = s.fingerprint("client");
    for (const auto& j : lines) {
        CHECK(j.at("verdict") == "accepted");
        CHECK(j.at("peer").get<std::string>().rfind("127.0.0.1:", 0) == 0);
        CHECK(j.at("identity").at("key_fingerprint") == fp);
        CHECK(j.at("identity").at("key_comment") == "client@e2e");
        auto layers = j.at("layers").get<std::vector<std::string>>();
        CHECK(std::find(layers.begin(), layers.end(), "public_key") != layers.end());
        CHECK(std::find(layers.begin(), layers.end(), "secure_channel") != layers.end());
        CHECK(j.at("time").get<std::string>().ends_with("Z"));
        CHECK(j.contains("handshake_ms"));
        CHECK(j.contains("duration_ms"));
        CHECK(j.at("closed_by") == "client");
    }
    // The SET of the big value: 10 MB in; the GET: 10 MB out.
    CHECK(lines[3].at("bytes_in").get<std::uint64_t>() > 10000000);
    CHECK(lines[5].at("bytes_out").get<std::uint64_t>() > 10000000);
    // The tunnel logs what the server proved.
    auto tlines = wait_audit(s.dir / "tunnel-audit.log", 6);
    REQUIRE_FALSE(tlines.empty());
    CHECK(tlines[0].at("identity").at("host_name") == "[127.0.0.1]:" + std::to_string(s.gate_port));
    CHECK(tlines[0].at("verdict") == "accepted");

    // Graceful stop: exit 0.
    gate->signal(SIGTERM);
    CHECK(gate->wait(std::chrono::seconds(15)) == std::optional<int>(0));
}

TEST_CASE("gate e2e: an unknown key is denied and never reaches redis" * doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend()));
    auto good = s.tunnel(s.tunnel_config("good", "client"));
    auto bad = s.tunnel(s.tunnel_config("bad", "stranger"));
    std::uint16_t good_port = good.port, bad_port = bad.port;

    long before = redis.info("total_connections_received");
    int rc = 0;
    std::string out = cli(bad_port, "ping", &rc);
    CHECK(out != "PONG");
    CHECK(rc != 0);
    CHECK(redis.info("total_connections_received") == before + 1);  // only our INFO

    auto gate_lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(gate_lines.size() == 1);
    CHECK(gate_lines[0].at("verdict") == "denied");
    CHECK(gate_lines[0].at("reason") == "denied");
    CHECK(gate_lines[0].at("detail").get<std::string>().find(s.fingerprint("stranger")) != std::string::npos);
    auto bad_lines = wait_audit(s.dir / "bad-audit.log", 1);
    REQUIRE(bad_lines.size() == 1);
    CHECK(bad_lines[0].at("verdict") == "denied");
    CHECK(bad_lines[0].at("reason") == "denied");

    // The known key still works next to it.
    CHECK(cli(good_port, "ping") == "PONG");

    // probe: 0 for the known key, 3 for the stranger, 4 with nothing to reach.
    std::string probe_out;
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "good.toml"), &probe_out) == 0);
    // What the gate proved (the config only names 127.0.0.1:PORT, unbracketed),
    // and the closing verdict line.
    CHECK(probe_out.find("host     [127.0.0.1]:" + std::to_string(s.gate_port) + "\n") != std::string::npos);
    CHECK(probe_out.find(" " + s.fingerprint("host") + "\n") != std::string::npos);
    CHECK(probe_out.ends_with("\nok\n"));
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "bad.toml"), &probe_out) == 3);
    CHECK(probe_out.find("denied: denied\n") != std::string::npos);  // the coarse reason the gate sent
    CHECK(probe_out.find("\nok\n") == std::string::npos);
    gate->stop();
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "good.toml"), &probe_out) == 4);
}

TEST_CASE("gate e2e: a blocked address is refused before any backend connection" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "",
                                     "[[layer]]\nkind = \"ip_filter\"\ndeny = [\"127.0.0.0/8\"]\n"));
    long before = redis.info("total_connections_received");
    int rc = 0;
    CHECK(cli(s.gate_port, "ping", &rc) != "PONG");
    CHECK(redis.info("total_connections_received") == before + 1);
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("verdict") == "denied");
    CHECK(lines[0].at("reason") == "host blocked");
}

TEST_CASE("gate e2e: backend down: the client is closed and the audit log says why" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    RefusingPort nothing;  // bound, never listening: refused, and nobody else's meanwhile
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(nothing.port())));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    std::uint16_t tport = tunnel.port;
    int rc = 0;
    CHECK(cli(tport, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("verdict") == "error");
    CHECK(lines[0].at("reason") == "backend unavailable");
    CHECK(lines[0].at("detail").get<std::string>().find("Connection refused") != std::string::npos);  // ECONNREFUSED
    CHECK(lines[0].at("identity").at("key_fingerprint") == s.fingerprint("client"));
}

TEST_CASE("gate e2e: a Unix-socket backend" * doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());  // listens on DIR/redis.sock only
    auto gate = s.gate(s.gate_config("unix:" + redis.socket().string()));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    CHECK(cli(tunnel.port, "set via unix") == "OK");
    CHECK(trim(redis.cli("get via")) == "unix");
}

TEST_CASE("gate e2e: config errors exit 2 and name the key") {
    Setup s;
    std::string out;
    auto config = s.gate_config("127.0.0.1:1", "bogus_key = 1\n");
    CHECK(shell(s.bin + " gate --config " + q(config), &out) == 2);
    // file:line: key: reason, where only the reason is not in the input.
    CHECK(out.find("gate.toml:5: bogus_key: unknown key") != std::string::npos);

    // The file name holds "backend": the check is on the whole diagnosis.
    write_file(s.dir / "nobackend.toml", "listen = \"127.0.0.1:1\"\n");
    CHECK(shell(s.bin + " gate --config " + q(s.dir / "nobackend.toml"), &out) == 2);
    CHECK(out.find("nobackend.toml:1: backend: missing required key") != std::string::npos);

    config = s.gate_config("127.0.0.1:1", "", "[[layer]]\nkind = \"public_key\"\nhost_key = \"missing\"\n"
                                              "authorized_keys = \"authorized_keys\"\n");
    CHECK(shell(s.bin + " gate --config " + q(config), &out) == 2);
    CHECK(out.find("gate.toml:7: layer[0].host_key: file not found: " + (s.dir / "missing").string()) !=
          std::string::npos);
}
