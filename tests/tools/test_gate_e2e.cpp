// End to end, with real processes: redis-server behind `authchain gate`,
// reached through `authchain tunnel` with redis-cli.
//
//   redis-cli -> tunnel (secure_channel | public_key)
//             -> gate (ip_filter | secure_channel | public_key) -> redis-server
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tests/tools/e2e_support.hpp"
#include "tools/proxy_v2.hpp"

using namespace authchain;
using namespace authchain::test;
using namespace authchain::test::e2e;
using nlohmann::json;

namespace {

std::string q(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

// `redis-cli -p port args`: trimmed output; *status gets the exit code.
std::string cli(std::uint16_t port, const std::string& args, int* status = nullptr) {
    std::string out;
    int rc = shell("timeout 20 redis-cli -p " + std::to_string(port) + " " + args, &out);
    if (status) *status = rc;
    return trim(out);
}

std::vector<json> audit_lines(const std::filesystem::path& file, const std::string& event = "connection") {
    std::vector<json> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        json j = json::parse(line);  // every line must be one JSON object
        if (j.at("event") == event) out.push_back(std::move(j));
    }
    return out;
}

// Polls (bounded) until `file` has at least `n` lines of `event`.
std::vector<json> wait_audit(const std::filesystem::path& file, std::size_t n,
                             const std::string& event = "connection") {
    for (int i = 0; i < 500; ++i) {
        if (std::filesystem::exists(file)) {
            auto lines = audit_lines(file, event);
            if (lines.size() >= n) return lines;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::filesystem::exists(file) ? audit_lines(file, event) : std::vector<json>{};
}

// Keys, configs and processes of one setup in a private directory.
struct Setup {
    TempDir dir;
    std::string bin = authchain_binary();
    std::uint16_t gate_port = free_port();

    Setup() {
        keygen("host", "gate-host");
        keygen("client", "client@e2e");
        keygen("stranger", "stranger@e2e");
        write_file(dir / "authorized_keys", read_file(dir / "client.pub"), 0600);
        std::istringstream pub(read_file(dir / "host.pub"));
        std::string type, blob;
        pub >> type >> blob;
        write_file(dir / "known_hosts", "[127.0.0.1]:" + std::to_string(gate_port) + " " + type + " " + blob + "\n",
                   0600);
    }
    void keygen(const std::string& name, const std::string& comment) {
        std::string out;
        int rc = shell(bin + " keygen -f " + q(dir / name) + " -C " + comment, &out);
        if (rc != 0) throw std::runtime_error("keygen failed: " + out);
    }
    std::string fingerprint(const std::string& name) {
        std::string out;
        shell(bin + " fingerprint " + q(dir / (name + ".pub")), &out);
        std::istringstream in(out);
        std::string bits, fp;
        in >> bits >> fp;
        return fp;
    }
    // A gate config: `backend` and extra top-level lines; the standard chain.
    std::filesystem::path gate_config(const std::string& backend, const std::string& extra = "",
                                      const std::string& layers = "") {
        std::string text = "listen = \"127.0.0.1:" + std::to_string(gate_port) + "\"\n" +
                           "backend = \"" + backend + "\"\n" +
                           "audit_log = \"gate-audit.log\"\n"
                           "handshake_timeout = \"5s\"\n" +
                           extra +
                           (layers.empty() ? "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.1/32\"]\n"
                                             "[[layer]]\nkind = \"secure_channel\"\n"
                                             "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\n"
                                             "authorized_keys = \"authorized_keys\"\n"
                                           : layers);
        write_file(dir / "gate.toml", text);
        return dir / "gate.toml";
    }
    std::filesystem::path tunnel_config(const std::string& name, std::uint16_t port, const std::string& identity) {
        std::string text = "listen = \"127.0.0.1:" + std::to_string(port) + "\"\n" +
                           "server = \"127.0.0.1:" + std::to_string(gate_port) + "\"\n" +
                           "audit_log = \"" + name + "-audit.log\"\n"
                           "handshake_timeout = \"5s\"\n"
                           "[[layer]]\nkind = \"secure_channel\"\n"
                           "[[layer]]\nkind = \"public_key\"\nidentity = \"" + identity + "\"\n"
                           "known_hosts = \"known_hosts\"\n";
        write_file(dir / (name + ".toml"), text);
        return dir / (name + ".toml");
    }
    std::unique_ptr<Process> start(const std::string& command, const std::filesystem::path& config,
                                   std::uint16_t port, const std::string& log) {
        auto p = std::make_unique<Process>(std::vector<std::string>{bin, command, "--config", config.string()},
                                           dir / log);
        // Not by connecting: a test connection would be a connection to count.
        std::string ready = "listening on 127.0.0.1:" + std::to_string(port);
        for (int i = 0; i < 500; ++i) {
            if (std::filesystem::exists(dir / log) && read_file(dir / log).find(ready) != std::string::npos)
                return p;
            if (p->wait(std::chrono::milliseconds(0))) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error(command + " did not start: " + read_file(dir / log));
    }
    std::unique_ptr<Process> gate(const std::filesystem::path& config) {
        return start("gate", config, gate_port, "gate.out");
    }
    std::unique_ptr<Process> tunnel(const std::filesystem::path& config, std::uint16_t port) {
        return start("tunnel", config, port, config.stem().string() + ".out");
    }
};

bool prerequisites() {
    if (!have("redis-server") || !have("redis-cli")) {
        MESSAGE("redis-server / redis-cli not installed: skipped");
        return false;
    }
    return true;
}

// A raw client through the tunnel speaking RESP, for connections that must
// stay open across a signal.
struct RawClient {
    asio::io_context io;
    asio::ip::tcp::socket socket{io};
    explicit RawClient(std::uint16_t port) { socket.connect({asio::ip::make_address("127.0.0.1"), port}); }
    // Sends PING, returns the reply line ("" if the connection ended), bounded.
    std::string ping() {
        std::string reply;
        asio::streambuf buf;
        bool done = false;
        asio::write(socket, asio::buffer(std::string("PING\r\n")));
        asio::async_read_until(socket, buf, "\r\n", [&](std::error_code ec, std::size_t) {
            if (!ec) reply.assign(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
            done = true;
        });
        io.restart();
        io.run_for(std::chrono::seconds(10));
        if (!done) socket.close();
        return trim(reply);
    }
    // True when the connection ends (EOF or error) within the bound.
    bool ends_within(std::chrono::seconds limit) {
        bool ended = false;
        std::array<char, 256> buf{};
        std::function<void(std::error_code, std::size_t)> on_read = [&](std::error_code ec, std::size_t) {
            if (ec) {
                ended = true;
                return;
            }
            socket.async_read_some(asio::buffer(buf), on_read);
        };
        socket.async_read_some(asio::buffer(buf), on_read);
        io.restart();
        io.run_for(limit);
        return ended;
    }
};

}  // namespace

TEST_CASE("gate e2e: redis through tunnel and gate: PING, SET/GET, a 10 MB value") {
    if (!prerequisites()) return;
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port())));
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);

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
    shell("redis-cli -p " + std::to_string(redis.port()) + " get big | sha256sum", &direct);
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

TEST_CASE("gate e2e: an unknown key is denied and never reaches redis") {
    if (!prerequisites()) return;
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port())));
    std::uint16_t good_port = free_port(), bad_port = free_port();
    auto good = s.tunnel(s.tunnel_config("good", good_port, "client"), good_port);
    auto bad = s.tunnel(s.tunnel_config("bad", bad_port, "stranger"), bad_port);

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
    CHECK(probe_out.find("[127.0.0.1]:" + std::to_string(s.gate_port)) != std::string::npos);
    CHECK(probe_out.find("ok") != std::string::npos);
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "bad.toml"), &probe_out) == 3);
    CHECK(probe_out.find("denied") != std::string::npos);
    gate->stop();
    CHECK(shell(s.bin + " probe --config " + q(s.dir / "good.toml"), &probe_out) == 4);
}

TEST_CASE("gate e2e: a blocked address is refused before any backend connection") {
    if (!prerequisites()) return;
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port()), "",
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

TEST_CASE("gate e2e: backend down: the client is closed and the audit log says why") {
    if (!prerequisites()) return;
    Setup s;
    std::uint16_t nothing = free_port();
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(nothing)));
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);
    int rc = 0;
    CHECK(cli(tport, "ping", &rc) != "PONG");
    CHECK(rc != 0);
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].at("verdict") == "error");
    CHECK(lines[0].at("reason") == "backend unavailable");
    CHECK(lines[0].at("detail").get<std::string>().find("refused") != std::string::npos);
    CHECK(lines[0].at("identity").at("key_fingerprint") == s.fingerprint("client"));
}

TEST_CASE("gate e2e: a Unix-socket backend") {
    if (!prerequisites()) return;
    Setup s;
    auto sock = s.dir / "redis.sock";
    std::uint16_t rport = free_port();
    Process redis({"redis-server", "--port", std::to_string(rport), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--unixsocket", sock.string(), "--unixsocketperm", "700"},
                  s.dir / "redis.log");
    REQUIRE(wait_listening(rport, redis));
    auto gate = s.gate(s.gate_config("unix:" + sock.string()));
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);
    CHECK(cli(tport, "set via unix") == "OK");
    CHECK(cli(rport, "get via") == "unix");
}

TEST_CASE("gate e2e: config errors exit 2 and name the key") {
    Setup s;
    std::string out;
    auto config = s.gate_config("127.0.0.1:1", "bogus_key = 1\n");
    CHECK(shell(s.bin + " gate --config " + q(config), &out) == 2);
    CHECK(out.find("bogus_key") != std::string::npos);

    write_file(s.dir / "nobackend.toml", "listen = \"127.0.0.1:1\"\n");
    CHECK(shell(s.bin + " gate --config " + q(s.dir / "nobackend.toml"), &out) == 2);
    CHECK(out.find("backend") != std::string::npos);

    config = s.gate_config("127.0.0.1:1", "", "[[layer]]\nkind = \"public_key\"\nhost_key = \"missing\"\n"
                                              "authorized_keys = \"authorized_keys\"\n");
    CHECK(shell(s.bin + " gate --config " + q(config), &out) == 2);
    CHECK(out.find("host_key") != std::string::npos);
}

TEST_CASE("gate e2e: SIGHUP reloads authorized_keys; established connections stay") {
    if (!prerequisites()) return;
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port())));
    std::uint16_t good_port = free_port(), bad_port = free_port();
    auto good = s.tunnel(s.tunnel_config("good", good_port, "client"), good_port);
    auto bad = s.tunnel(s.tunnel_config("bad", bad_port, "stranger"), bad_port);

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

TEST_CASE("gate e2e: SIGTERM lets live connections finish within grace, then closes them, exit 0") {
    if (!prerequisites()) return;
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port()), "grace = \"300ms\"\n"));
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);
    RawClient held(tport);
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

TEST_CASE("gate e2e: max_connections: one more is refused busy") {
    if (!prerequisites()) return;
    Setup s;
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port()), "max_connections = 1\n"));
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);
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
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);

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

TEST_CASE("gate e2e: user = drops privileges after binding; an impossible user refuses to start") {
    if (!prerequisites()) return;
    Setup s;
    std::string out;
    auto config = s.gate_config("127.0.0.1:1", "user = \"no-such-user-authchain\"\n");
    CHECK(shell(s.bin + " gate --config " + q(config), &out) == 2);
    CHECK(out.find("refusing to start") != std::string::npos);
    CHECK_FALSE(accepts(s.gate_port));
    if (::geteuid() != 0) {
        MESSAGE("not root: dropping to nobody not tried");
        return;
    }
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port()), "user = \"nobody\"\n"));
    std::string status = read_file("/proc/" + std::to_string(gate->pid()) + "/status");
    auto uid_line = status.substr(status.find("Uid:"));
    uid_line = uid_line.substr(0, uid_line.find('\n'));
    CHECK(uid_line.find("\t0") == std::string::npos);  // no real, effective, saved or fs uid 0
    std::uint16_t tport = free_port();
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", tport, "client"), tport);
    CHECK(cli(tport, "ping") == "PONG");
}

TEST_CASE("gate e2e: [[allow]] lets only the listed key through, and the audit names the rule") {
    if (!prerequisites()) return;
    Setup s;
    write_file(s.dir / "authorized_keys", read_file(s.dir / "client.pub") + read_file(s.dir / "stranger.pub"), 0600);
    Redis redis(s.dir.path());
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(redis.port()),
                                     "[[allow]]\nkey_fingerprint = \"" + s.fingerprint("client") + "\"\n"));
    std::uint16_t good_port = free_port(), bad_port = free_port();
    auto good = s.tunnel(s.tunnel_config("good", good_port, "client"), good_port);
    auto bad = s.tunnel(s.tunnel_config("bad", bad_port, "stranger"), bad_port);
    long before = redis.info("total_connections_received");
    CHECK(cli(bad_port, "ping") != "PONG");
    CHECK(redis.info("total_connections_received") == before + 1);
    CHECK(cli(good_port, "ping") == "PONG");
    auto lines = wait_audit(s.dir / "gate-audit.log", 2);
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].at("verdict") == "denied");
    CHECK(lines[0].at("reason") == "denied");
    CHECK(lines[0].at("detail").get<std::string>().find("allow") != std::string::npos);
    CHECK(lines[0].at("detail").get<std::string>().find(s.fingerprint("stranger")) != std::string::npos);
    CHECK(lines[1].at("verdict") == "accepted");
}
