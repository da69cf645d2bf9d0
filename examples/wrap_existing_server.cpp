// An existing, unmodified server (redis, postgres, anything on TCP or a Unix
// socket) wrapped in-process by a chain: what `authchain gate` does, in a
// page. Only sessions that pass the whole chain ever reach the backend.
//
//   redis-server --port 6379 &
//   build/examples/wrap_existing_server 127.0.0.1:7000 127.0.0.1:6379 HOST_KEY AUTHORIZED_KEYS
//
// Clients come through `authchain tunnel` (secure_channel + public_key with
// a key listed in AUTHORIZED_KEYS); each forward is printed when it ends.
#include <cstdio>
#include <fmt/core.h>

#include <authchain/authchain.hpp>

using namespace authchain;

int main(int argc, char** argv) {
    if (argc < 5) {
        fmt::print(stderr, "usage: {} LISTEN BACKEND HOST_KEY AUTHORIZED_KEYS\n", argv[0]);
        return 2;
    }
    Endpoint listen = parse_host_port(argv[1]);
    Endpoint backend = parse_host_port(argv[2]);
    auto chain = ip_filter({.allow = {"127.0.0.0/8", "::1"}})
               | secure_channel()
               | public_key({.host_key = argv[3], .authorized_keys = argv[4]});

    // The data path after the chain: connect the backend, pump both ways.
    // (.proxy_v2 = true: a backend that reads PROXY v2 learns who connected.)
    ForwardOptions options{.connect_timeout = std::chrono::seconds(5)};
    ForwardReport report = [](const Session& client, const ForwardSummary& s) {
        fmt::print("{} ({}): {}, {} bytes in, {} out{}{}\n", client.credentials.key_comment.value_or("?"),
                   client.credentials.key_fingerprint.value_or("?"), to_string(s.outcome), s.client_to_backend,
                   s.backend_to_client, s.error_text.empty() ? "" : ": ", s.error_text);
        std::fflush(stdout);
    };

    asio::io_context io;
    TcpListener listener(io.get_executor(), listen.host, listen.port);
    Server server(listener, chain, forward_to(backend, options, report));
    fmt::print("{} behind ip_filter | secure_channel | public_key on {}\n", backend.to_string(),
               endpoint_text(listener.local_endpoint()));
    std::fflush(stdout);
    asio::co_spawn(io, server.run(), asio::detached);
    io.run();
}
