// Helpers for the end-to-end tests of the authchain command: child processes
// stopped by PID, ports read back from what bound them (never guessed),
// bounded waits, a real redis-server on a Unix socket.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"

namespace authchain::test::e2e {

inline std::string authchain_binary() {
    const char* root = std::getenv("AUTHCHAIN_BUILD_ROOT");
    return std::string(root ? root : ".") + "/tools/authchain";
}

inline bool accepts(std::uint16_t port) {
    asio::io_context io;
    asio::ip::tcp::socket s(io);
    std::error_code ec;
    s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
    return !ec;
}

// A child process (argv, output to `log`), stopped by PID: SIGTERM, then
// SIGKILL after a bounded wait.
class Process {
public:
    Process(std::vector<std::string> argv, const std::filesystem::path& log) {
        std::fflush(nullptr);
        pid_ = ::fork();
        if (pid_ < 0) throw std::runtime_error("fork failed");
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) ::dup2(fd, 1), ::dup2(fd, 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execvp(args[0], args.data());
            ::_exit(127);
        }
    }
    ~Process() { stop(); }
    Process(const Process&) = delete;
    Process& operator=(const Process&) = delete;

    pid_t pid() const { return pid_; }
    void signal(int sig) const {
        if (pid_ > 0 && !status_) ::kill(pid_, sig);
    }
    // Waits up to `limit` for the exit; returns the exit status (or -signal).
    std::optional<int> wait(std::chrono::milliseconds limit) {
        if (status_) return status_;
        auto until = std::chrono::steady_clock::now() + limit;
        auto polls = limit / std::chrono::milliseconds(10) + 1;  // bounded in count too
        do {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
                return status_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        } while (--polls > 0 && std::chrono::steady_clock::now() < until);
        return std::nullopt;
    }
    void stop() {
        if (pid_ <= 0 || status_) return;
        signal(SIGTERM);
        if (wait(std::chrono::seconds(5))) return;
        ::kill(pid_, SIGKILL);
        wait(std::chrono::seconds(5));
    }

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// The port in the first "PREFIX<digits><non-digit>" of `text` (the line a
// command prints once it listens, e.g. "authchain gate: listening on
// 127.0.0.1:" ...), or nothing while the line is not complete.
inline std::optional<std::uint16_t> port_after(const std::string& text, const std::string& prefix) {
    auto at = text.find(prefix);
    if (at == std::string::npos) return std::nullopt;
    std::size_t begin = at + prefix.size(), end = begin;
    while (end < text.size() && end - begin <= 5 && text[end] >= '0' && text[end] <= '9') ++end;
    if (end == begin || end == text.size() || end - begin > 5) return std::nullopt;  // not all written yet
    unsigned long port = std::stoul(text.substr(begin, end - begin));
    if (port == 0 || port > 65535) throw std::runtime_error("bad port in: " + text.substr(at, end - at));
    return static_cast<std::uint16_t>(port);
}

// Waits (bounded: 500 polls, 10 s) until `log` has the line `prefix` + port;
// returns the port. Throws with the log if the process exits first or time runs out.
inline std::uint16_t wait_port(Process& p, const std::filesystem::path& log, const std::string& prefix,
                               std::chrono::seconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
        std::string text = std::filesystem::exists(log) ? read_file(log) : std::string();
        if (auto port = port_after(text, prefix)) return *port;
        if (auto status = p.wait(std::chrono::milliseconds(0)))
            throw std::runtime_error("exited (" + std::to_string(*status) + ") before \"" + prefix + "\": " + text);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    throw std::runtime_error("no \"" + prefix + "\" within the bound: " +
                             (std::filesystem::exists(log) ? read_file(log) : std::string()));
}

inline bool unix_accepts(const std::filesystem::path& socket) {
    asio::io_context io;
    asio::local::stream_protocol::socket s(io);
    std::error_code ec;
    s.connect(asio::local::stream_protocol::endpoint(socket.string()), ec);
    return !ec;
}

// A real redis-server listening only on the Unix socket DIR/redis.sock (no
// TCP port: nothing to guess), no persistence. Stopped by PID. `socket_perm`
// is the socket's mode (redis --unixsocketperm).
class Redis {
public:
    explicit Redis(const std::filesystem::path& dir, const std::string& socket_perm = "700")
        : socket_(dir / "redis.sock"),
          process_({"redis-server", "--port", "0", "--unixsocket", socket_.string(), "--unixsocketperm", socket_perm,
                    "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", dir.string()},
                   dir / "redis.log") {
        // Bounded: 500 polls, 10 s.
        auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        for (int i = 0; i < 500 && std::chrono::steady_clock::now() < until; ++i) {
            if (unix_accepts(socket_)) return;
            if (process_.wait(std::chrono::milliseconds(0))) break;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        throw std::runtime_error("redis-server did not start: " + read_file(dir / "redis.log"));
    }
    const std::filesystem::path& socket() const { return socket_; }
    // The gate's backend setting for this server.
    std::string backend() const { return "unix:" + socket_.string(); }
    // `redis-cli -s SOCKET args` straight to the server: output; *status gets the exit code.
    std::string cli(const std::string& args, int* status = nullptr) const {
        std::string out;
        int rc = shell("timeout 20 redis-cli -s '" + socket_.string() + "' " + args, &out);
        if (status) *status = rc;
        return out;
    }
    // A numeric field of INFO (e.g. total_connections_received).
    long info(const std::string& field) const {
        std::string out = cli("INFO stats");
        auto at = out.find(field + ":");
        if (at == std::string::npos) throw std::runtime_error("no " + field + " in INFO: " + out);
        return std::stol(out.substr(at + field.size() + 1));
    }

private:
    std::filesystem::path socket_;
    Process process_;
};

// A TCP port on 127.0.0.1 where nothing listens, held for the object's
// life: a socket bound to port 0 and never put in listen state, so a
// connection to it is refused and nobody else can take the port meanwhile.
class RefusingPort {
public:
    RefusingPort() {
        socket_.open(asio::ip::tcp::v4());
        socket_.bind({asio::ip::make_address("127.0.0.1"), 0});
    }
    std::uint16_t port() const { return socket_.local_endpoint().port(); }

private:
    asio::io_context io_;
    asio::ip::tcp::socket socket_{io_};
};

}  // namespace authchain::test::e2e
