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
#include "relay/proxy_v2.hpp"

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
