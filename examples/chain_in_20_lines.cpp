// The README's chain: ip_filter | secure_channel | public_key | check, in
// front of a greeting. Key files as ssh-keygen or `authchain keygen` make them.
//
//   build/examples/chain_in_20_lines HOST_KEY AUTHORIZED_KEYS [PORT]
#include <cstdlib>
#include <fmt/core.h>

#include <authchain/authchain.hpp>

using namespace authchain;

int main(int argc, char** argv) {
    if (argc < 3) {
        fmt::print(stderr, "usage: {} HOST_KEY AUTHORIZED_KEYS [PORT]\n", argv[0]);
        return 2;
    }
    asio::io_context io;
    auto chain = ip_filter({.allow = {"10.0.0.0/8", "127.0.0.1"}})
               | secure_channel()                                   // Noise NN: encrypted
               | public_key({.host_key = argv[1], .authorized_keys = argv[2]})
               | check([](const Credentials& c) { return c.key_comment != "intern"; });
    auto port = static_cast<std::uint16_t>(argc > 3 ? std::atoi(argv[3]) : 7000);
    TcpListener listener(io.get_executor(), "127.0.0.1", port);     // loopback unless told
    Server server(listener, chain, [](Session s) -> asio::awaitable<void> {
        // Only authenticated sessions get here; s.credentials says who.
        auto hello = fmt::format("hello {}\n", s.credentials.key_fingerprint.value_or("?"));
        co_await write_all(s.stream, asio::buffer(hello));
    });
    asio::co_spawn(io, server.run(), asio::detached);
    io.run();
}
