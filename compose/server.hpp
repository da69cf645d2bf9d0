// The server driver: accept, authenticate under a deadline, hand over.
//
//     authchain::Server server(listener, chain, handler);
//     co_await server.run();
//
// Only sessions that pass the whole chain reach the handler. A refused
// connection gets the coarse reason (where its transport can carry it) and
// is closed; it never reaches the handler.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>

#include "compose/combinators.hpp"
#include "compose/listener.hpp"
#include "compose/session.hpp"

namespace authchain {

struct ServerOptions {
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
    // Connections still in their handshake; more are closed at once (busy).
    std::size_t max_handshakes = 256;
    AuditSink audit;  // optional: one record per attempt
};

using Handler = std::function<asio::awaitable<void>(Session)>;

class Server {
public:
    Server(Listener& listener, Authenticator chain, Handler handler, ServerOptions options = {});

    // Accepts until stop() or the listener fails; each connection runs on
    // its own strand. Returns after the listener is closed; sessions
    // already handed to the handler keep running. The Server and the
    // Listener must outlive run() unless stop() was called first.
    asio::awaitable<void> run();
    void stop() noexcept;

    std::size_t in_handshake() const noexcept { return state_->in_handshake; }

private:
    struct State {
        std::atomic<std::size_t> in_handshake{0};
        std::atomic<bool> stopped{false};
    };
    static asio::awaitable<void> serve_one(Stream stream, Authenticator chain, Handler handler,
                                           ServerOptions options, std::shared_ptr<State> state);

    Listener& listener_;
    Authenticator chain_;
    Handler handler_;
    ServerOptions options_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

struct ClientOptions {
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
};

// The client driver: runs the client-side chain on a connected stream.
// Throws AuthenticationError when the chain (or the server) refuses.
asio::awaitable<Session> authenticate(Stream stream, Authenticator client_chain,
                                      ClientOptions options = {});

}  // namespace authchain
