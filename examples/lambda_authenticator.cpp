// A custom authenticator written as a lambda, composed with ip_filter, in
// front of an echo server. Clients must send the line "knock knock <name>\n"
// first; the layer proves <name> as the user (a typed fact, in one call).
//
//   build/examples/lambda_authenticator 127.0.0.1 7000 &
//   printf 'knock knock alice\nhello\n' | nc -q1 127.0.0.1 7000    # -> hello alice
//   printf 'hello\n' | nc -q1 127.0.0.1 7000                       # -> (closed)
#include <asio/buffer.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>

#include <authchain/authchain.hpp>

using namespace authchain;

int main(int argc, char** argv) {
    const char* address = argc > 1 ? argv[1] : "127.0.0.1";
    auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 7000);

    // The custom layer: a plain lambda Session -> awaitable<Session>. A
    // Stream is an Asio stream, so asio::async_read works on it. A layer
    // reads no byte past its own message (those belong to what follows), so
    // the line is read a byte at a time, bounded.
    Authenticator knock = [](Session s) -> asio::awaitable<Session> {
        std::string line;
        for (char c = 0; c != '\n';) {
            if (line.size() == 64) deny(DenyReason::protocol_error, "knock line too long");
            co_await asio::async_read(s.stream, asio::buffer(&c, 1), asio::use_awaitable);
            line += c;
        }
        const std::string prefix = "knock knock ";
        if (!line.starts_with(prefix) || line.size() <= prefix.size() + 1) deny(DenyReason::denied, "wrong knock");
        s.credentials.prove("knock", &Credentials::user, line.substr(prefix.size(), line.size() - prefix.size() - 1));
        co_return s;
    };
    auto chain = ip_filter({.allow = {"127.0.0.0/8", "::1"}}) | knock;

    asio::io_context io;
    TcpListener listener(io.get_executor(), address, port);
    ServerOptions options;
    options.audit = [](const AuditRecord& r) {
        fmt::print(stderr, "{} {}: {}\n", r.peer.address().to_string(), r.accepted ? "accepted" : "refused",
                   r.accepted ? r.identity : r.detail);
    };
    // The wrapped server: a line echo, reading with asio::async_read_until
    // and an asio::streambuf straight from the authenticated stream.
    Server server(listener, chain, [](Session s) -> asio::awaitable<void> {
        const std::string greeting = "hello " + *s.credentials.user + "\n";
        co_await write_all(s.stream, asio::buffer(greeting));
        asio::streambuf lines(4096);
        for (;;) {
            auto [error, n] = co_await asio::async_read_until(
                s.stream, lines, '\n', asio::experimental::as_tuple(asio::use_awaitable));
            if (error) break;  // end of stream, or a line longer than 4096 bytes
            co_await asio::async_write(s.stream, lines.data(), asio::transfer_exactly(n), asio::use_awaitable);
            lines.consume(n);
        }
    }, options);
    fmt::print("echo behind ip_filter | knock on {}:{}\n", address, listener.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(io, server.run(), asio::detached);
    io.run();
}
