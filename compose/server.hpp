// The server driver: accept, authenticate under a deadline, hand over.
//
//     authchain::Server server(listener, chain, handler);
//     co_await server.run();
//
// Only sessions that pass the whole chain reach the handler. A refused
// connection gets the coarse reason (where its transport can carry it) and
// is closed; it never reaches the handler. The driver is the one place that
// sends a deny: layers only throw.
//
// What ended a refused handshake is classified by refusal_for(): an
// AuthenticationError as thrown; std::system_error (peer reset, end of
// stream) as protocol_error; any other exception is a bug in a layer, not
// the peer's fault: the peer is told internal_error, the audit detail reads
// "internal error: <what()>", and it is also reported to on_error.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <authchain/compose/combinators.hpp>
#include <authchain/compose/event_loops.hpp>
#include <authchain/compose/listener.hpp>
#include <authchain/compose/session.hpp>

namespace authchain {

// What the server can hand to no one else: an exception from the handler, a
// bug in a layer (a handshake ended by internal_error), or a failure of the
// driver itself. Never rethrown out of the connection's coroutine.
struct ServerError {
    asio::ip::tcp::endpoint peer{};
    std::string where{};  // "handler", "handshake" or "driver"
    std::string what;   // the exception's what(), or the internal_error detail
};
using ErrorSink = std::function<void(const ServerError&)>;

// The default ErrorSink: one line on stderr,
// "authchain: handler error (peer 127.0.0.1:40000): <what>".
void print_server_error(const ServerError& error) noexcept;

struct ServerOptions {
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
    // Connections still in their handshake; more are refused at once as
    // busy (the reason is sent where the transport can carry it, as for any
    // refusal, and audited).
    std::size_t max_handshakes = 256;
    // The share of those one source may hold (DESIGN rule 9): a source is an
    // IPv4 address, or an IPv6 /64 (compose/cidr.hpp source_of; an
    // IPv4-mapped address counts as IPv4). 0, the default, means
    // max_handshakes / 2, at least 1 (128 of the default 256), so one source
    // flooding idle connections leaves the other half to everyone else, while
    // one tunnel (all its connections come from one address) can still open
    // many connections at once.
    std::size_t max_handshakes_per_source = 0;
    AuditSink audit{};  // optional: one record per attempt
    // Where ServerErrors go; empty: print_server_error. If it throws, the
    // error goes to print_server_error too.
    ErrorSink on_error{};
    // Where connections run. Set: the listener places each accepted
    // connection on the next loop (Listener::accept_on) and it lives there,
    // its handshake and handler on that loop's one thread, without a strand
    // (a connection the listener left elsewhere runs on a strand there). Null: each connection
    // runs on a strand of its own, on run()'s executor. The EventLoops must
    // outlive every connection the Server started.
    EventLoops* loops = nullptr;
};

using Handler = std::function<asio::awaitable<void>(Session)>;

class Server {
public:
    Server(Listener& listener, Authenticator chain, Handler handler, ServerOptions options = {});

    // Accepts until stop() or the listener fails; each connection runs on
    // its own strand, or on its loop (ServerOptions::loops). Returns after the listener is closed; sessions
    // already handed to the handler keep running. The Server and the
    // Listener must outlive run() unless stop() was called first.
    asio::awaitable<void> run();
    void stop() noexcept;

    std::size_t in_handshake() const noexcept { return state_->in_handshake; }
    // Of those, the ones from the source of `address` (see source_of).
    std::size_t in_handshake_from(const asio::ip::address& address) const;

private:
    struct State {
        std::atomic<std::size_t> in_handshake{0};
        std::atomic<std::size_t> refusing{0};  // busy refusals still sending their reason
        std::atomic<bool> stopped{false};
        mutable std::mutex mutex;  // guards per_source
        std::map<asio::ip::address, std::size_t> per_source;  // sources with a handshake running
    };
    // Takes a handshake slot for `source`, or returns false (busy).
    static bool take_slot(State& state, const ServerOptions& options, const asio::ip::address& source);
    static void release_slot(State& state, const asio::ip::address& source);
    static asio::awaitable<void> serve_one(Stream stream, Authenticator chain, Handler handler,
                                           ServerOptions options, std::shared_ptr<State> state,
                                           asio::ip::address source);
    // Where a connection runs: its loop, or a new strand on `fallback`.
    asio::any_io_executor home_of(const Stream& stream, const asio::any_io_executor& fallback) const;
    static asio::awaitable<void> refuse_busy(Stream stream, std::shared_ptr<State> state);

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
// Throws AuthenticationError when the chain (or the server) refuses, after
// sending the server the coarse reason; any other exception (I/O) closes
// the stream and propagates as is. The chain is copied before the returned
// awaitable first runs, so it need not outlive the call.
//
//     Authenticator chain = client::secure_channel() | client::public_key({...});
//     Session s = co_await authenticate(co_await tcp_connect(host, port), chain);
asio::awaitable<Session> authenticate(Stream stream, const Authenticator& client_chain,
                                      ClientOptions options = {});

// g++ 12 (and older) destroys a temporary that lives across a co_await
// twice: `co_await authenticate(s, a | b)` builds and then crashes with
// "free(): invalid pointer" (the operands of `|` are freed twice; reproduced
// with Debian's g++ 12.2, clang is fine). There, a chain written in place is
// refused at compile time; name it first, as above. With other compilers
// an rvalue chain is taken as it is.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#define AUTHCHAIN_GCC_COAWAIT_TEMPORARY_BUG 1
namespace detail {
template <class>
inline constexpr bool gcc12_coawait_temporary = false;
}
template <class Unused = void>
asio::awaitable<Session> authenticate(Stream, Authenticator&&, ClientOptions = {}) {
    static_assert(detail::gcc12_coawait_temporary<Unused>,
                  "authchain::authenticate: a client chain written in place (an rvalue, e.g. a | b) "
                  "is refused under g++ < 13, which destroys temporaries inside co_await twice "
                  "(free(): invalid pointer at run time). Build the chain into a named variable first: "
                  "Authenticator chain = a | b; co_await authenticate(std::move(stream), chain);");
    return {};
}
#else
asio::awaitable<Session> authenticate(Stream stream, Authenticator&& client_chain,
                                      ClientOptions options = {});
#endif

}  // namespace authchain
