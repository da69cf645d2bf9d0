// A client built against the installed library only (pkg-config), for
// tests/install/check_install.sh: knocks on examples/lambda_authenticator,
// reads its greeting and an echoed line with asio::async_read_until.
//   consumer_client PORT   -> prints "consumer client ok: hello alice"
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <authchain/authchain.hpp>

using namespace authchain;

asio::awaitable<int> knock(std::uint16_t port) {
    // The client chain, named before the co_await (g++ 12: see authenticate()).
    Authenticator say_knock = [](Session s) -> asio::awaitable<Session> {
        const std::string line = "knock knock alice\n";  // named: no temporary across co_await (g++ 12)
        co_await asio::async_write(s.stream, asio::buffer(line), asio::use_awaitable);
        co_return s;
    };
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 13)
    // Not affected by the g++ 12 bug: a chain written in place links and runs
    // against the library g++ 12 built (its rvalue overload is always there).
    Session s = co_await authenticate(co_await tcp_connect("127.0.0.1", port), pass() | say_knock);
#else
    const Authenticator chain = pass() | say_knock;
    Session s = co_await authenticate(co_await tcp_connect("127.0.0.1", port), chain);
#endif
    std::string in;
    std::size_t n = co_await asio::async_read_until(s.stream, asio::dynamic_buffer(in), '\n', asio::use_awaitable);
    const std::string greeting = in.substr(0, n - 1);
    in.erase(0, n);
    const std::string ping = "ping\n";
    co_await asio::async_write(s.stream, asio::buffer(ping), asio::use_awaitable);
    n = co_await asio::async_read_until(s.stream, asio::dynamic_buffer(in), '\n', asio::use_awaitable);
    if (greeting != "hello alice" || in.substr(0, n) != "ping\n") {
        std::printf("unexpected: \"%s\" / \"%s\"\n", greeting.c_str(), in.c_str());
        co_return 1;
    }
    std::printf("consumer client ok: %s\n", greeting.c_str());
    co_return 0;
}

int main(int argc, char** argv) {
    if (argc != 2) return 2;
    asio::io_context io;
    int status = 1;
    asio::co_spawn(io, knock(static_cast<std::uint16_t>(std::atoi(argv[1]))), [&](std::exception_ptr e, int s) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& x) {
                std::printf("consumer client failed: %s\n", x.what());
            }
        } else {
            status = s;
        }
    });
    io.run_for(std::chrono::seconds(20));
    return status;
}
