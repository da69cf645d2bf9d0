// Helpers for tests: run coroutines to completion on a private io_context,
// bounded in time so a hung test fails instead of hanging CI.
#pragma once

#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <filesystem>
#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace authchain::test {

// Runs `make(executor)` (a function returning asio::awaitable<T>) and
// returns its value, rethrowing its exception. Fails after `limit`.
template <class Make>
auto run(Make make, std::chrono::seconds limit = std::chrono::seconds(20)) {
    using Awaitable = decltype(make(std::declval<asio::any_io_executor>()));
    using T = typename Awaitable::value_type;
    asio::io_context io;
    bool done = false;
    std::exception_ptr error;
    // monostate for void: clang 14 checks `value.emplace` even in the branch
    // `if constexpr` discards, so `value` has that member either way.
    std::optional<std::conditional_t<std::is_void_v<T>, std::monostate, T>> value;
    // The completion runs on the io_context's thread, so no race with run_for.
    asio::co_spawn(io, make(io.get_executor()), [&](std::exception_ptr e, auto... result) {
        done = true;
        error = e;
        if constexpr (sizeof...(result) == 1) value.emplace(std::move(result)...);
    });
    io.run_for(limit);
    if (!done) throw std::runtime_error("test coroutine did not finish in time");
    if (error) std::rethrow_exception(error);
    if constexpr (!std::is_void_v<T>) return std::move(*value);
}

// A fresh private directory under the build tree's temp dir, removed by the destructor.
class TempDir {
public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// Runs a shell command; returns its exit status. Output goes to `output` if given.
int shell(const std::string& command, std::string* output = nullptr);

// Writes `text` to `path` with `mode` (e.g. 0600).
void write_file(const std::filesystem::path& path, const std::string& text, unsigned mode = 0644);
std::string read_file(const std::filesystem::path& path);
// The permission bits of `path` (e.g. 0600); throws if it cannot be stat'ed.
unsigned mode_of(const std::filesystem::path& path);

// Waits `d` on the calling coroutine's executor.
inline asio::awaitable<void> sleep_for(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::use_awaitable);
}

// `n` pseudo-random bytes, the same for the same seed (bulk transfer checks).
inline std::string pattern(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (auto& c : s) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
    }
    return s;
}

// Everything `stream` delivers until its end (any type with read_some).
template <class S>
asio::awaitable<std::string> read_to_end(S& stream) {
    std::string out;
    char buf[4096];
    for (;;) {
        std::size_t n = co_await stream.read_some(asio::buffer(buf));
        if (n == 0) co_return out;
        out.append(buf, n);
    }
}

}  // namespace authchain::test
