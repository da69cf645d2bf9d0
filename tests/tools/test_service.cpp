// End to end, how `authchain gate` runs as a service: behind a trusted
// balancer (proxy_protocol_from; the test itself is the balancer: it
// connects from 127.0.0.1 and sends the PROXY v2 header HAProxy's
// send-proxy-v2 would send), a full reload on SIGHUP, metrics, idle_timeout,
// and the systemd protocols (sd_notify, socket activation).
#include "tests/tools/service_support.hpp"

TEST_CASE("proxy in: a listed source's header is the peer ip_filter, the audit and the outgoing header see") {
    Setup s;
    RecordingBackend backend;
    auto gate = s.gate(s.gate_config(backend.address(),
                                     "proxy_protocol = \"v2\"\nproxy_protocol_from = [\"127.0.0.1/32\"]\n",
                                     filter_only("192.0.2.10/32")));
    {
        RawClient allowed(s.gate_port);
        asio::write(allowed.socket, asio::buffer(proxy_header("192.0.2.10", 40001, s.gate_port) + "hello"));
        // The backend gets the gate's own header (source: the real client), then the bytes.
        std::string got = backend.wait_received(0, 1);
        std::optional<proxy_v2::Parsed> parsed;
        for (int i = 0; i < 500 && !parsed; ++i) {
            got = backend.received(0);
            try {
                parsed = proxy_v2::parse(Bytes(got.begin(), got.end()));
            } catch (const std::exception&) {
                break;
            }
            if (!parsed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        REQUIRE(parsed);
        CHECK(parsed->header.source == asio::ip::tcp::endpoint(asio::ip::make_address("192.0.2.10"), 40001));
        CHECK(backend.wait_received(0, parsed->size + 5).substr(parsed->size) == "hello");
    }
    // Another real client, not allowed: refused by ip_filter by its own address.
    CHECK(send_and_see_closed(s.gate_port, proxy_header("198.51.100.7", 40002, s.gate_port) + "hello",
                              std::chrono::seconds(10)));
    auto lines = wait_audit(s.dir / "gate-audit.log", 2);
    REQUIRE(lines.size() == 2);
    std::map<std::string, json> by_peer;
    for (auto& l : lines) by_peer[l.at("peer").get<std::string>()] = l;
    REQUIRE(by_peer.count("192.0.2.10:40001") == 1);
    REQUIRE(by_peer.count("198.51.100.7:40002") == 1);
    CHECK(by_peer["192.0.2.10:40001"].at("verdict") == "accepted");
    CHECK(by_peer["192.0.2.10:40001"].at("via").get<std::string>().rfind("127.0.0.1:", 0) == 0);
    CHECK(by_peer["198.51.100.7:40002"].at("verdict") == "denied");
    CHECK(by_peer["198.51.100.7:40002"].at("reason") == "host blocked");
    CHECK(by_peer["198.51.100.7:40002"].at("via").get<std::string>().rfind("127.0.0.1:", 0) == 0);
    CHECK(backend.connections() == 1);  // the refused one never reached it
}

TEST_CASE("proxy in: garbage or a partial header from a listed source is closed, nothing forwarded") {
    Setup s;
    RecordingBackend backend;
    auto gate = s.gate(
        s.gate_config(backend.address(), "proxy_protocol_from = [\"127.0.0.1/32\"]\n", filter_only("0.0.0.0/0")));
    // Not a PROXY header at all: refused on its first bytes.
    CHECK(send_and_see_closed(s.gate_port, "GET / HTTP/1.0\r\n\r\n", std::chrono::seconds(10)));
    // A header cut short: closed when handshake_timeout (5 s here) passes.
    std::string header = proxy_header("192.0.2.10", 40001, s.gate_port);
    CHECK(send_and_see_closed(s.gate_port, header.substr(0, 20), std::chrono::seconds(15)));
    // A header whose length field overruns what the gate accepts.
    std::string huge = header.substr(0, 14) + std::string("\xff\xff", 2) + std::string(64, 'x');
    CHECK(send_and_see_closed(s.gate_port, huge, std::chrono::seconds(10)));
    auto lines = wait_audit(s.dir / "gate-audit.log", 3);
    REQUIRE(lines.size() == 3);
    for (const auto& l : lines) {
        CHECK(l.at("verdict") == "denied");
        CHECK(l.at("reason") == "protocol error");
    }
    CHECK(lines[1].at("detail").get<std::string>().find("timed out") != std::string::npos);
    CHECK(backend.connections() == 0);
}

TEST_CASE("proxy in: an unlisted source's header is never trusted: closed unread") {
    Setup s;
    RecordingBackend backend;
    auto gate = s.gate(s.gate_config(backend.address(), "proxy_protocol_from = [\"192.0.2.0/24\"]\n",
                                     filter_only("0.0.0.0/0")));
    CHECK(send_and_see_closed(s.gate_port, proxy_header("192.0.2.10", 40001, s.gate_port) + "hello",
                              std::chrono::seconds(10)));
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("reason") == "host blocked");
    CHECK(lines[0].at("peer").get<std::string>().rfind("127.0.0.1:", 0) == 0);
    CHECK(backend.connections() == 0);
}

TEST_CASE("proxy in: with proxy_protocol_optional_from_others an unlisted source is a direct client") {
    Setup s;
    RecordingBackend backend;
    auto gate = s.gate(s.gate_config(backend.address(),
                                     "proxy_protocol = \"v2\"\nproxy_protocol_from = [\"192.0.2.0/24\"]\n"
                                     "proxy_protocol_optional_from_others = true\n",
                                     filter_only("127.0.0.1/32")));
    std::string forged = proxy_header("192.0.2.10", 40001, s.gate_port);
    {
        RawClient direct(s.gate_port);
        asio::write(direct.socket, asio::buffer(forged + "hello"));
        std::string got;
        std::optional<proxy_v2::Parsed> parsed;
        for (int i = 0; i < 500 && !parsed; ++i) {
            got = backend.received(0);
            parsed = proxy_v2::parse(Bytes(got.begin(), got.end()));
            if (!parsed) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        REQUIRE(parsed);
        // The gate's header names the connection's own address; the forged
        // header is only payload, passed on as the client sent it.
        CHECK(parsed->header.source.address() == asio::ip::make_address("127.0.0.1"));
        CHECK(backend.wait_received(0, parsed->size + forged.size() + 5).substr(parsed->size) == forged + "hello");
    }
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("peer").get<std::string>().rfind("127.0.0.1:", 0) == 0);
    CHECK_FALSE(lines[0].contains("via"));
}

TEST_CASE("reload: [[allow]] and ip_filter change under SIGHUP; live sessions keep theirs; a bad file keeps the old" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    write_file(s.dir / "authorized_keys", read_file(s.dir / "client.pub") + read_file(s.dir / "stranger.pub"), 0600);
    auto allow = [&](const std::string& who) {
        return "metrics_listen = \"127.0.0.1:0\"\n[[allow]]\nkey_fingerprint = \"" + s.fingerprint(who) + "\"\n";
    };
    auto config = s.gate_config(redis.backend(), allow("client"));
    auto m = metered_gate(s, config);
    auto good = s.tunnel(s.tunnel_config("good", "client"));
    auto other = s.tunnel(s.tunnel_config("other", "stranger"));

    RawClient held(good.port);
    CHECK(held.ping() == "+PONG");
    CHECK(cli(other.port, "ping") != "PONG");

    // [[allow]] now names the other key: the next connections see it, the held one stays.
    s.gate_config(redis.backend(), allow("stranger"));
    m.gate->signal(SIGHUP);
    auto reloads = wait_audit(s.dir / "gate-audit.log", 1, "reload");
    REQUIRE(reloads.size() == 1);
    CHECK(reloads[0].at("ok") == true);
    CHECK(cli(other.port, "ping") == "PONG");
    CHECK(cli(good.port, "ping") != "PONG");
    CHECK(held.ping() == "+PONG");

    // An invalid file: reported, and the rules in use stay.
    write_file(s.dir / "gate.toml", read_file(s.dir / "gate.toml") + "this is not toml\n");
    m.gate->signal(SIGHUP);
    reloads = wait_audit(s.dir / "gate-audit.log", 2, "reload");
    REQUIRE(reloads.size() == 2);
    CHECK(reloads[1].at("ok") == false);
    CHECK(cli(other.port, "ping") == "PONG");

    // ip_filter now allows another network only: new connections are refused by address.
    s.gate_config(redis.backend(), allow("stranger"),
                  "[[layer]]\nkind = \"ip_filter\"\nallow = [\"192.0.2.0/24\"]\n"
                  "[[layer]]\nkind = \"secure_channel\"\n"
                  "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n");
    m.gate->signal(SIGHUP);
    reloads = wait_audit(s.dir / "gate-audit.log", 3, "reload");
    REQUIRE(reloads.size() == 3);
    CHECK(reloads[2].at("ok") == true);
    CHECK(cli(other.port, "ping") != "PONG");
    CHECK(held.ping() == "+PONG");  // the session from before every reload

    auto metrics = scrape(m.metrics_port);
    CHECK(sample(metrics, "authchain_config_reloads_total{result=\"success\"}") == 2);
    CHECK(sample(metrics, "authchain_config_reloads_total{result=\"failure\"}") == 1);
    auto lines = audit_lines(s.dir / "gate-audit.log");
    CHECK(std::any_of(lines.begin(), lines.end(), [](const json& l) { return l.value("reason", "") == "host blocked"; }));
}

TEST_CASE("metrics: GET /metrics during an e2e run; the counters move as the connections do" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    Setup s;
    Redis redis(s.dir.path());
    auto m = metered_gate(s, s.gate_config(redis.backend(), "metrics_listen = \"127.0.0.1:0\"\n"));
    auto good = s.tunnel(s.tunnel_config("good", "client"));
    auto bad = s.tunnel(s.tunnel_config("bad", "stranger"));

    auto before = scrape(m.metrics_port);
    REQUIRE(!before.empty());
    CHECK(sample(before, "authchain_connections_accepted_total") == 0);
    CHECK(sample(before, "authchain_connections_active") == 0);

    CHECK(cli(good.port, "ping") == "PONG");
    RawClient held(good.port);
    CHECK(held.ping() == "+PONG");
    CHECK(cli(bad.port, "ping") != "PONG");
    wait_audit(s.dir / "gate-audit.log", 2);  // the closed session and the refusal are written

    auto after = scrape(m.metrics_port);
    CHECK(sample(after, "authchain_connections_accepted_total") == 2);
    CHECK(sample(after, "authchain_connections_active") == 1);  // `held`
    CHECK(sample(after, "authchain_connections_denied_total{layer=\"public_key\",reason=\"denied\"}") == 1);
    CHECK(sample(after, "authchain_handshake_duration_seconds_count") == 2);
    CHECK(sample(after, "authchain_session_duration_seconds_count") == 1);
    CHECK(sample(after, "authchain_bytes_total{direction=\"in\"}") > 0);
    CHECK(sample(after, "authchain_bytes_total{direction=\"out\"}") > 0);
    CHECK(sample(after, "authchain_backend_errors_total") == 0);
    // No identity or address ever becomes a label.
    CHECK(after.find("127.0.0.1") == std::string::npos);
    CHECK(after.find("SHA256:") == std::string::npos);
}

TEST_CASE("idle_timeout: a session with no bytes either way is closed, and the audit says why") {
    Setup s;
    RecordingBackend backend;
    auto gate = s.gate(s.gate_config(backend.address(), "idle_timeout = \"300ms\"\nkeepalive = \"60s\"\n",
                                     filter_only("127.0.0.1/32")));
    RawClient idle(s.gate_port);
    asio::write(idle.socket, asio::buffer(std::string("hello")));
    CHECK(idle.ends_within(std::chrono::seconds(10)));
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("verdict") == "accepted");
    CHECK(lines[0].at("reason") == "idle timeout");
    CHECK(backend.wait_received(0, 5) == "hello");
}

TEST_CASE("systemd: READY, RELOADING and STOPPING reach NOTIFY_SOCKET") {
    Setup s;
    RecordingBackend backend;
    asio::io_context io;
    auto path = s.dir / "notify.sock";
    asio::local::datagram_protocol::socket notify(io, asio::local::datagram_protocol::endpoint(path.string()));
    auto config = s.gate_config(backend.address(), "", filter_only("127.0.0.1/32"));
    Process gate({"env", "NOTIFY_SOCKET=" + path.string(), s.bin, "gate", "--config", config.string()},
                 s.dir / "gate.out");
    // The next datagram, bounded (10 s).
    auto next = [&] {
        std::array<char, 512> buf{};
        std::string got;
        notify.async_receive(asio::buffer(buf), [&](std::error_code ec, std::size_t n) {
            if (!ec) got.assign(buf.data(), n);
        });
        io.restart();
        io.run_for(std::chrono::seconds(10));
        return got;
    };
    std::string ready = next();
    CHECK(ready.find("READY=1") != std::string::npos);
    CHECK(ready.find("STATUS=listening on 127.0.0.1:") != std::string::npos);
    gate.signal(SIGHUP);
    CHECK(next().find("RELOADING=1") != std::string::npos);
    CHECK(next().find("READY=1") != std::string::npos);
    gate.signal(SIGTERM);
    CHECK(next().find("STOPPING=1") != std::string::npos);
    CHECK(gate.wait(std::chrono::seconds(10)) == std::optional<int>(0));
}

TEST_CASE("systemd: socket activation: the gate serves the socket systemd-socket-activate passes") {
    require_tools({"systemd-socket-activate"});
    Setup s;
    RecordingBackend backend;
    // A free port for systemd-socket-activate to bind (it needs a number).
    std::uint16_t port = 0;
    {
        asio::io_context io;
        asio::ip::tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
        port = probe.local_endpoint().port();
    }
    write_file(s.dir / "gate.toml", "socket_activation = true\nbackend = \"" + backend.address() + "\"\n"
                                    "audit_log = \"gate-audit.log\"\n" + filter_only("127.0.0.1/32"));
    Process activator({"systemd-socket-activate", "-l", "127.0.0.1:" + std::to_string(port), s.bin, "gate",
                       "--config", (s.dir / "gate.toml").string()},
                      s.dir / "gate.out");
    // systemd-socket-activate binds, then starts the gate at the first connection.
    bool listening = false;
    for (int i = 0; i < 500 && !listening; ++i) {
        listening = std::filesystem::exists(s.dir / "gate.out") &&
                    read_file(s.dir / "gate.out").find("Listening on") != std::string::npos;
        if (!listening) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    REQUIRE(listening);
    {
        RawClient c(port);
        asio::write(c.socket, asio::buffer(std::string("hello")));
        CHECK(backend.wait_received(0, 5) == "hello");
    }
    CHECK(read_file(s.dir / "gate.out").find("(socket from systemd)") != std::string::npos);
    auto start = wait_audit(s.dir / "gate-audit.log", 1, "start");
    REQUIRE(start.size() == 1);
    CHECK(start[0].at("listen") == "127.0.0.1:" + std::to_string(port));
}

TEST_CASE("systemd: socket_activation = true without a socket from systemd refuses to start") {
    Setup s;
    write_file(s.dir / "gate.toml", "socket_activation = true\nbackend = \"127.0.0.1:1\"\n" +
                                    filter_only("127.0.0.1/32"));
    std::string out;
    CHECK(shell("timeout 20 " + s.bin + " gate --config " + q(s.dir / "gate.toml"), &out) == 2);
    CHECK(out.find("systemd passed no socket") != std::string::npos);
}

TEST_CASE("systemd: the unit files pass systemd-analyze verify (binary and man pages from this build)") {
    require_tools({"systemd-analyze"});
    const char* source = std::getenv("AUTHCHAIN_SOURCE_ROOT");
    const char* build = std::getenv("AUTHCHAIN_BUILD_ROOT");
    REQUIRE(source);
    REQUIRE(build);
    TempDir dir;
    // The man pages this build made, where `man` finds them (Documentation=man:...).
    for (std::string section : {"1", "5"}) std::filesystem::create_directories(dir / ("man/man" + section));
    for (std::string page : {"authchain.1", "authchain-gate.1", "authchain-tunnel.1", "authchain.toml.5"})
        std::filesystem::copy_file(std::filesystem::path(build) / "man" / page,
                                   dir / ("man/man" + page.substr(page.size() - 1)) / page);
    std::string units;
    for (std::string kind : {"gate", "tunnel"}) {
        for (std::string type : {"service", "socket"}) {
            std::string text = read_file(std::filesystem::path(source) / "contrib/systemd" /
                                         ("authchain-" + kind + "@." + type));
            // The installed path of the binary, here: this build's.
            for (auto at = text.find("/usr/bin/authchain"); at != std::string::npos;
                 at = text.find("/usr/bin/authchain", at))
                text.replace(at, 18, authchain_binary());
            write_file(dir / ("authchain-" + kind + "@." + type), text);
            units += " " + q(dir / ("authchain-" + kind + "@demo." + type));
        }
    }
    std::string out;
    int rc = shell("MANPATH=" + q(dir / "man") + " timeout 60 systemd-analyze verify" + units + " 2>&1", &out);
    INFO(out);
    CHECK(rc == 0);
    CHECK(out.empty());
}

TEST_CASE("a gate on a non-loopback address without ip_filter or an authenticating layer warns loudly") {
    Setup s;
    RecordingBackend backend;
    auto config = s.gate_config(backend.address(), "", "[[layer]]\nkind = \"secure_channel\"\n");
    std::string text = read_file(config);
    text.replace(text.find("127.0.0.1:0"), 11, "0.0.0.0:0");
    write_file(config, text);
    Process gate({s.bin, "gate", "--config", config.string()}, s.dir / "gate.out");
    wait_port(gate, s.dir / "gate.out", "authchain gate: listening on 0.0.0.0:");
    std::string out = read_file(s.dir / "gate.out");  // the warning comes before the listening line
    CHECK(out.find("authchain gate: WARNING: listening on 0.0.0.0:") < out.find("authchain gate: listening on"));
    CHECK(out.find("reachable from other hosts, with no ip_filter and no layer that authenticates") !=
          std::string::npos);
    CHECK(wait_audit(s.dir / "gate-audit.log", 1, "warning").size() == 1);

    // The same gate on loopback, or with an ip_filter, starts quietly.
    Setup quiet;
    quiet.gate(quiet.gate_config(backend.address(), "", filter_only("127.0.0.1/32")));
    CHECK(read_file(quiet.dir / "gate.out").find("reachable from other hosts") == std::string::npos);
}
