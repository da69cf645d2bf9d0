// Helpers for the end-to-end tests of the authchain command: child processes
// stopped by PID, free loopback ports, bounded waits, a real redis-server.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/run.hpp"

namespace authchain::test::e2e {

inline std::string authchain_binary() {
    const char* root = std::getenv("AUTHCHAIN_BUILD_ROOT");
    return std::string(root ? root : ".") + "/tools/authchain";
}

// A port nobody listens on right now (127.0.0.1).
inline std::uint16_t free_port() {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, {asio::ip::make_address("127.0.0.1"), 0});
    return a.local_endpoint().port();
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
        do {
            int st = 0;
            if (::waitpid(pid_, &st, WNOHANG) == pid_) {
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
                return status_;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        } while (std::chrono::steady_clock::now() < until);
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

// Waits (bounded) until something accepts on `port`, or the process died.
inline bool wait_listening(std::uint16_t port, Process& p, std::chrono::seconds limit = std::chrono::seconds(10)) {
    auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        if (accepts(port)) return true;
        if (p.wait(std::chrono::milliseconds(0))) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// A real redis-server on 127.0.0.1, no persistence, in `dir`.
class Redis {
public:
    explicit Redis(const std::filesystem::path& dir)
        : port_(free_port()),
          process_({"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "no", "--dir", dir.string(), "--protected-mode",
                    "no"},
                   dir / "redis.log") {
        if (!wait_listening(port_, process_)) throw std::runtime_error("redis-server did not start");
    }
    std::uint16_t port() const { return port_; }
    // A numeric field of INFO (e.g. total_connections_received).
    long info(const std::string& field) const {
        std::string out;
        shell("redis-cli -p " + std::to_string(port_) + " INFO stats", &out);
        auto at = out.find(field + ":");
        if (at == std::string::npos) throw std::runtime_error("no " + field + " in INFO");
        return std::stol(out.substr(at + field.size() + 1));
    }

private:
    std::uint16_t port_;
    Process process_;
};

inline bool have(const std::string& tool) { return shell("command -v " + tool + " >/dev/null") == 0; }

}  // namespace authchain::test::e2e
