// Shared by the gate end-to-end tests: a redis-server, keys, gate and
// tunnel configs, and helpers to read the audit log and talk raw TCP.
#pragma once

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
#include <authchain/relay/proxy_v2.hpp>

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
inline std::string cli(std::uint16_t port, const std::string& args, int* status = nullptr) {
    std::string out;
    int rc = shell("timeout 20 redis-cli -p " + std::to_string(port) + " " + args, &out);
    if (status) *status = rc;
    return trim(out);
}

std::vector<json> audit_lines(const std::filesystem::path& file, const std::string& event = "connection") {
    std::vector<json> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
        // A last line without its newline is still being written (a write
        // that crosses a page is seen in two steps): the next poll reads it.
        if (in.eof()) break;
        json j = json::parse(line);  // every complete line must be one JSON object
        if (j.at("event") == event) out.push_back(std::move(j));
    }
    return out;
}

// Polls (bounded: 500 polls, 10 s) until `file` has at least `n` lines of `event`.
std::vector<json> wait_audit(const std::filesystem::path& file, std::size_t n,
                             const std::string& event = "connection") {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
        if (std::filesystem::exists(file)) {
            auto lines = audit_lines(file, event);
            if (lines.size() >= n) return lines;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return std::filesystem::exists(file) ? audit_lines(file, event) : std::vector<json>{};
}

// A started gate or tunnel: the process and the port it printed.
struct Daemon {
    std::unique_ptr<Process> process;
    std::uint16_t port = 0;
    Process* operator->() const { return process.get(); }
};

// Keys, configs and processes of one setup in a private directory. Gates and
// tunnels listen on 127.0.0.1:0; the port is read back from the line they
// print at start ("authchain gate: listening on 127.0.0.1:PORT, ...").
struct Setup {
    TempDir dir;
    std::string bin = authchain_binary();
    std::uint16_t gate_port = 0;  // known once gate() has started it

    Setup() {
        keygen("host", "gate-host");
        keygen("client", "client@e2e");
        keygen("stranger", "stranger@e2e");
        write_file(dir / "authorized_keys", read_file(dir / "client.pub"), 0600);
    }
    void keygen(const std::string& name, const std::string& comment) {
        std::string out;
        int rc = shell(bin + " keygen -f " + q(dir / name) + " -C " + comment, &out);
        if (rc != 0) throw std::runtime_error("keygen failed: " + out);
    }
    std::string fingerprint(const std::string& name) {
        std::string out;
        REQUIRE(shell(bin + " fingerprint " + q(dir / (name + ".pub")), &out) == 0);
        std::istringstream in(out);
        std::string bits, fp;
        in >> bits >> fp;
        REQUIRE(fp.rfind("SHA256:", 0) == 0);
        return fp;
    }
    // A gate config: `backend` and extra top-level lines; the standard chain.
    // Lines: 1 listen, 2 backend, 3 audit_log, 4 handshake_timeout, then `extra`.
    std::filesystem::path gate_config(const std::string& backend, const std::string& extra = "",
                                      const std::string& layers = "") {
        std::string text = "listen = \"127.0.0.1:0\"\n"
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
    // A tunnel config for the running gate (start the gate first) with
    // `layers` as its chain.
    std::filesystem::path tunnel_config_with(const std::string& name, const std::string& layers) {
        REQUIRE_MESSAGE(gate_port != 0, "start the gate before writing a tunnel config");
        std::string text = "listen = \"127.0.0.1:0\"\n"
                           "server = \"127.0.0.1:" + std::to_string(gate_port) + "\"\n" +
                           "audit_log = \"" + name + "-audit.log\"\n"
                           "handshake_timeout = \"5s\"\n" + layers;
        write_file(dir / (name + ".toml"), text);
        return dir / (name + ".toml");
    }
    // The same with the standard chain, secure_channel | public_key with `identity`.
    std::filesystem::path tunnel_config(const std::string& name, const std::string& identity) {
        return tunnel_config_with(name, "[[layer]]\nkind = \"secure_channel\"\n"
                                        "[[layer]]\nkind = \"public_key\"\nidentity = \"" + identity + "\"\n"
                                        "known_hosts = \"known_hosts\"\n");
    }
    // Starts `authchain COMMAND --config CONFIG` and waits (bounded) for its
    // "listening on" line; not by connecting: a test connection would be a
    // connection to count.
    Daemon start(const std::string& command, const std::filesystem::path& config, const std::string& log) {
        Daemon d;
        d.process = std::make_unique<Process>(std::vector<std::string>{bin, command, "--config", config.string()},
                                              dir / log);
        d.port = wait_port(*d.process, dir / log, "authchain " + command + ": listening on 127.0.0.1:");
        return d;
    }
    // Starts the gate; records its port and writes known_hosts for it.
    Daemon gate(const std::filesystem::path& config) {
        Daemon d = start("gate", config, "gate.out");
        gate_port = d.port;
        std::istringstream pub(read_file(dir / "host.pub"));
        std::string type, blob;
        pub >> type >> blob;
        write_file(dir / "known_hosts", "[127.0.0.1]:" + std::to_string(gate_port) + " " + type + " " + blob + "\n",
                   0600);
        return d;
    }
    Daemon tunnel(const std::filesystem::path& config) {
        return start("tunnel", config, config.stem().string() + ".out");
    }
};

// The end-to-end tests that run redis: skipped (and counted) only when
// AUTHCHAIN_TEST_SKIP_MISSING=1 and a tool is missing; otherwise a missing
// tool fails them (require_redis()).
inline const std::vector<std::string>& redis_tools() {
    static const std::vector<std::string> tools{"redis-server", "redis-cli"};
    return tools;
}
inline bool skip_without_redis() { return skip_missing(redis_tools()); }
inline void require_redis() { require_tools(redis_tools()); }

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
