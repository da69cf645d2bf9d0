// End to end, with real processes: how `authchain gate` runs — reload on
// SIGHUP, shutdown on SIGTERM, connection limits, PROXY protocol v2 to the
// backend, privilege drop, and per-identity [[allow]] rules.
#include "tests/tools/gate_fixture.hpp"

TEST_CASE("gate e2e: SIGHUP reloads authorized_keys; established connections stay" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend()));
    auto good = s.tunnel(s.tunnel_config("good", "client"));
    auto bad = s.tunnel(s.tunnel_config("bad", "stranger"));
    std::uint16_t good_port = good.port, bad_port = bad.port;

    RawClient held(good_port);
    CHECK(held.ping() == "+PONG");
    CHECK(cli(bad_port, "ping") != "PONG");

    // A broken authorized_keys: the reload fails and the old one stays.
    write_file(s.dir / "authorized_keys", read_file(s.dir / "client.pub"), 0666);
    gate->signal(SIGHUP);
    auto reloads = wait_audit(s.dir / "gate-audit.log", 1, "reload");
    REQUIRE(reloads.size() == 1);
    CHECK(reloads[0].at("ok") == false);
    CHECK(cli(good_port, "ping") == "PONG");

    write_file(s.dir / "authorized_keys", read_file(s.dir / "client.pub") + read_file(s.dir / "stranger.pub"),
               0600);
    gate->signal(SIGHUP);
    reloads = wait_audit(s.dir / "gate-audit.log", 2, "reload");
    REQUIRE(reloads.size() == 2);
    CHECK(reloads[1].at("ok") == true);
    CHECK(cli(bad_port, "ping") == "PONG");
    CHECK(held.ping() == "+PONG");  // the connection from before the reload
}

TEST_CASE("gate e2e: SIGTERM lets live connections finish within grace, then closes them, exit 0" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "grace = \"300ms\"\n"));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    RawClient held(tunnel.port);
    CHECK(held.ping() == "+PONG");
    gate->signal(SIGTERM);
    CHECK(held.ends_within(std::chrono::seconds(10)));
    CHECK(gate->wait(std::chrono::seconds(10)) == std::optional<int>(0));
    CHECK_FALSE(accepts(s.gate_port));
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("verdict") == "accepted");
    CHECK(lines[0].at("reason") == "shutdown");
    CHECK(lines[0].at("closed_by") == "gate");
    CHECK(wait_audit(s.dir / "gate-audit.log", 1, "stop").size() == 1);
}

TEST_CASE("gate e2e: max_connections: one more is refused busy" * doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(), "max_connections = 1\n"));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    std::uint16_t tport = tunnel.port;
    RawClient held(tport);
    CHECK(held.ping() == "+PONG");
    CHECK(cli(tport, "ping") != "PONG");
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("verdict") == "denied");
    CHECK(lines[0].at("reason") == "busy");
    CHECK(held.ping() == "+PONG");
}

TEST_CASE("gate e2e: proxy_protocol = v2 tells the backend who the client proved to be") {
    Setup s;
    asio::io_context io;
    asio::ip::tcp::acceptor backend(io, {asio::ip::make_address("127.0.0.1"), 0});
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(backend.local_endpoint().port()),
                                     "proxy_protocol = \"v2\"\n"));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    std::uint16_t tport = tunnel.port;

    std::optional<proxy_v2::Parsed> parsed;
    std::string payload;
    asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        asio::ip::tcp::socket client(io);
        co_await client.async_connect({asio::ip::make_address("127.0.0.1"), tport}, asio::use_awaitable);
        co_await asio::async_write(client, asio::buffer(std::string("payload")), asio::use_awaitable);
        auto peer = co_await backend.async_accept(asio::use_awaitable);
        Bytes got;
        std::array<std::uint8_t, 512> buf{};
        while (!parsed || got.size() < parsed->size + 7) {
            std::size_t n = co_await peer.async_read_some(asio::buffer(buf), asio::use_awaitable);
            got.insert(got.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
            parsed = proxy_v2::parse(got);
        }
        payload.assign(got.begin() + static_cast<std::ptrdiff_t>(parsed->size), got.end());
    }, asio::detached);
    io.run_for(std::chrono::seconds(20));
    REQUIRE(parsed);
    CHECK(payload == "payload");
    const auto& h = parsed->header;
    CHECK(h.source.address() == asio::ip::make_address("127.0.0.1"));
    CHECK(h.destination.port() == s.gate_port);
    std::map<int, std::string> tlv;
    for (const auto& t : h.tlvs) tlv[t.type] = t.value;
    CHECK(tlv[0xE0] == s.fingerprint("client"));
    CHECK(tlv[0xE4] == "client@e2e");
    CHECK(tlv[0x05].size() == 64);  // hex of a 32-byte channel id
}

TEST_CASE("gate e2e: user = an impossible user refuses to start") {
    Setup s;
    std::string out;
    auto config = s.gate_config("127.0.0.1:1", "user = \"no-such-user-authchain\"\n");
    // Bounded: a gate that started anyway would run until `timeout` (exit 124).
    CHECK(shell("timeout 20 " + s.bin + " gate --config " + q(config), &out) == 2);
    CHECK(out.find("authchain gate: refusing to start: ") != std::string::npos);
    CHECK(out.find("listening on") == std::string::npos);  // it never served
}

TEST_CASE("gate e2e: user = drops privileges after binding (needs root)" *
          doctest::skip(skip_without_redis() || skip_unless_root())) {
    require_root();
    require_redis();
    Setup s;
    // After the drop the gate connects as nobody: the backend socket lives in
    // a directory others may traverse (not list), with mode 777.
    TempDir shared;
    std::filesystem::permissions(shared.path(), std::filesystem::perms::owner_all |
                                                    std::filesystem::perms::group_exec |
                                                    std::filesystem::perms::others_exec);
    Redis redis(shared.path(), "777");
    auto gate = s.gate(s.gate_config(redis.backend(), "user = \"nobody\"\n"));
    std::string status = read_file("/proc/" + std::to_string(gate->pid()) + "/status");
    auto uid_line = status.substr(status.find("Uid:"));
    uid_line = uid_line.substr(0, uid_line.find('\n'));
    CHECK(uid_line.find("\t0") == std::string::npos);  // no real, effective, saved or fs uid 0
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    CHECK(cli(tunnel.port, "ping") == "PONG");
}

TEST_CASE("gate e2e: [[allow]] lets only the listed key through, and the audit names the rule" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    write_file(s.dir / "authorized_keys", read_file(s.dir / "client.pub") + read_file(s.dir / "stranger.pub"), 0600);
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config(redis.backend(),
                                     "[[allow]]\nkey_fingerprint = \"" + s.fingerprint("client") + "\"\n"));
    auto good = s.tunnel(s.tunnel_config("good", "client"));
    auto bad = s.tunnel(s.tunnel_config("bad", "stranger"));
    std::uint16_t good_port = good.port, bad_port = bad.port;
    long before = redis.info("total_connections_received");
    CHECK(cli(bad_port, "ping") != "PONG");
    CHECK(redis.info("total_connections_received") == before + 1);
    CHECK(cli(good_port, "ping") == "PONG");
    auto lines = wait_audit(s.dir / "gate-audit.log", 2);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].at("verdict") == "denied");
    CHECK(lines[0].at("reason") == "denied");
    // The [[allow]] check's own words ("allow" alone could come from another layer's detail).
    CHECK(lines[0].at("detail").get<std::string>().find("allow refused ") != std::string::npos);
    CHECK(lines[0].at("detail").get<std::string>().find(s.fingerprint("stranger")) != std::string::npos);
    CHECK(lines[1].at("verdict") == "accepted");
    // probe learns the verdict of the whole chain: public_key accepted the
    // stranger's key, the [[allow]] check after it refused (issue 14.7).
    std::string probe_out;
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "bad.toml"), &probe_out) == 3);
    CHECK(probe_out.find("denied: denied\n") != std::string::npos);
    CHECK(probe_out.find("\nok\n") == std::string::npos);
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "good.toml"), &probe_out) == 0);
    CHECK(probe_out.ends_with("\nok\n"));
}
