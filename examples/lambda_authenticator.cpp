// A custom authenticator written as a lambda, composed with ip_filter, in
// front of an echo server. Clients must send the line "knock knock\n" first.
//
//   build/examples/lambda_authenticator 127.0.0.1 7000 &
//   printf 'knock knock\nhello\n' | nc -q1 127.0.0.1 7000    # -> hello
//   printf 'hello\n' | nc -q1 127.0.0.1 7000                 # -> (closed)
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <cstdio>
#include <cstdlib>
#include <fmt/core.h>

#include "authchain.hpp"

using namespace authchain;

int main(int argc, char** argv) {
    const char* address = argc > 1 ? argv[1] : "127.0.0.1";
    auto port = static_cast<std::uint16_t>(argc > 2 ? std::atoi(argv[2]) : 7000);

    // The custom layer: a plain lambda Session -> awaitable<Session>.
    Authenticator knock = [](Session s) -> asio::awaitable<Session> {
        std::string line(12, '\0');
        co_await read_exact(s.stream, asio::buffer(line), "knock");
        if (line != "knock knock\n") deny(DenyReason::denied, "wrong knock");
        s.credentials.prove_extra("knock", "knocked", "yes");
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
    Server server(listener, chain, [](Session s) -> asio::awaitable<void> {
        char buf[4096];
        while (std::size_t n = co_await s.stream.read_some(asio::buffer(buf)))
            co_await write_all(s.stream, asio::buffer(buf, n));
    }, options);
    fmt::print("echo behind ip_filter | knock on {}:{}\n", address, listener.local_endpoint().port());
    std::fflush(stdout);
    asio::co_spawn(io, server.run(), asio::detached);
    io.run();
}
