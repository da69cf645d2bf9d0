#include <authchain/compose/server.hpp>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <cstdio>
#include <fmt/format.h>

#include <authchain/compose/cidr.hpp>
#include <authchain/compose/deadline.hpp>

namespace authchain {

namespace {

// How long a refused peer gets to take the deny message before we close.
constexpr auto deny_grace = std::chrono::seconds(1);

// Sends the coarse reason (where the transport can carry it), then closes.
asio::awaitable<void> refuse(const std::shared_ptr<ConnectionTrail>& trail, DenyReason reason) {
    auto top = trail->top();
    trail->unpin();
    if (!top) co_return;
    auto executor = co_await asio::this_coro::executor;
    Deadline grace(executor, deny_grace, [top] { top->close(); });
    try {
        co_await top->send_deny(reason);
    } catch (const std::exception&) {
        // The peer is gone or not reading: nothing more to tell it.
    }
    grace.cancel();
    top->close();
}

struct Pin {
    std::shared_ptr<ConnectionTrail> trail;
    explicit Pin(std::shared_ptr<ConnectionTrail> t) : trail(std::move(t)) { trail->pin(); }
    ~Pin() { trail->unpin(); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
};

void report(const ErrorSink& on_error, ServerError error) noexcept {
    if (on_error) {
        try {
            on_error(error);
            return;
        } catch (...) {
            error.what += " (and on_error threw)";
        }
    }
    print_server_error(error);
}

void report(const ServerOptions& options, ServerError error) noexcept { report(options.on_error, std::move(error)); }

// Runs the chain under the deadline; returns the session or the refusal.
asio::awaitable<std::optional<Session>> run_chain(Stream stream, const Authenticator& chain,
                                                  const ServerOptions& options) {
    auto trail = stream.trail();
    trail->set_side(ConnectionTrail::Side::server);
    Pin pin(trail);
    auto peer = stream.remote_endpoint();
    // The audit is outermost, so it records the timeout's verdict too.
    Wrapper around = with_timeout(options.handshake_timeout);
    if (options.audit) around = audited(options.audit) | around;
    // The verdict on the whole chain goes to the client as its last step.
    Authenticator accept = [](Session s) -> asio::awaitable<Session> {
        co_await s.stream.send_accept();
        co_return s;
    };
    Authenticator timed = around | (chain | accept);
    auto started = std::chrono::system_clock::now();
    auto clock_start = std::chrono::steady_clock::now();
    std::exception_ptr failure;
    try {
        Session start = start_session(std::move(stream));
        Session session = co_await timed(std::move(start));
        session.handshake = {started, std::chrono::steady_clock::now() - clock_start};
        co_return session;
    } catch (...) {
        failure = std::current_exception();
    }
    AuthenticationError refusal = refusal_for(failure);
    if (refusal.reason() == DenyReason::internal_error) report(options, {peer, "handshake", refusal.detail()});
    co_await refuse(trail, refusal.reason());
    co_return std::nullopt;
}

}  // namespace

void print_server_error(const ServerError& error) noexcept {
    try {
        std::string line = fmt::format("authchain: {} error (peer {}:{}): {}\n", error.where,
                                       error.peer.address().to_string(), error.peer.port(), error.what);
        std::fputs(line.c_str(), stderr);
    } catch (...) {
        std::fputs("authchain: server error (could not format it)\n", stderr);
    }
}

Server::Server(Listener& listener, Authenticator chain, Handler handler, ServerOptions options)
    : listener_(listener),
      chain_(std::move(chain)),
      handler_(std::move(handler)),
      options_(std::move(options)) {}

void Server::stop() noexcept {
    state_->stopped = true;
    listener_.close();
}

asio::awaitable<void> Server::run() {
    auto executor = co_await asio::this_coro::executor;
    // After stop() the Server may already be gone: touch only `state`.
    auto state = state_;
    while (!state->stopped) {
        Stream stream;
        bool back_off = false;
        try {
            if (options_.loops) {
                stream = co_await listener_.accept_on(*options_.loops);
            } else {
                stream = co_await listener_.accept();
            }
        } catch (const std::system_error& e) {
            if (state->stopped) break;
            auto ec = e.code();
            bool transient = ec == asio::error::connection_aborted || ec == asio::error::interrupted;
            // Out of file descriptors or memory: back off instead of spinning.
            back_off = ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space ||
                       ec == asio::error::no_memory || ec.value() == ENFILE;
            if (!transient && !back_off) throw;
        }
        if (state->stopped) break;
        if (back_off) {
            asio::steady_timer pause(executor, std::chrono::milliseconds(100));
            co_await pause.async_wait(asio::use_awaitable);
        }
        if (!stream) continue;
        asio::ip::tcp::endpoint peer;
        try {
            peer = stream.remote_endpoint();
        } catch (const std::exception&) {
            // No address (the peer is already gone): 0.0.0.0, one source for all such.
        }
        auto source = source_of(peer.address());
        if (!take_slot(*state, options_, source)) {
            if (options_.audit) {
                AuditRecord record;
                record.time = std::chrono::system_clock::now();
                record.peer = peer;
                record.reason = DenyReason::busy;
                record.detail = "too many connections in their handshake";
                options_.audit(record);
            }
            // Refusals still sending their reason are bounded too: past
            // max_handshakes of them, the connection is closed without one.
            if (state->refusing.load() >= options_.max_handshakes) {
                stream.close();
                continue;
            }
            ++state->refusing;
            auto home = home_of(stream, executor);
            asio::co_spawn(home, refuse_busy(std::move(stream), state), asio::detached);
            continue;
        }
        auto home = home_of(stream, executor);
        asio::co_spawn(home, serve_one(std::move(stream), chain_, handler_, options_, state, source), asio::detached);
    }
}

asio::any_io_executor Server::home_of(const Stream& stream, const asio::any_io_executor& fallback) const {
    // On a loop: its one thread is the connection's, no strand needed.
    if (options_.loops) {
        std::size_t index = options_.loops->index_of(stream.get_executor());
        if (index < options_.loops->size()) return options_.loops->executor(index);
    }
    return asio::make_strand(fallback);
}

std::size_t Server::in_handshake_from(const asio::ip::address& address) const {
    std::lock_guard lock(state_->mutex);
    auto it = state_->per_source.find(source_of(address));
    return it == state_->per_source.end() ? 0 : it->second;
}

bool Server::take_slot(State& state, const ServerOptions& options, const asio::ip::address& source) {
    std::size_t share = options.max_handshakes_per_source;
    if (share == 0) share = std::max<std::size_t>(1, options.max_handshakes / 2);
    std::lock_guard lock(state.mutex);
    if (state.in_handshake.load() >= options.max_handshakes) return false;
    auto it = state.per_source.find(source);
    if (it != state.per_source.end() && it->second >= share) return false;
    if (it == state.per_source.end()) it = state.per_source.emplace(source, 0).first;
    ++it->second;
    ++state.in_handshake;
    return true;
}

void Server::release_slot(State& state, const asio::ip::address& source) {
    std::lock_guard lock(state.mutex);
    auto it = state.per_source.find(source);
    if (it != state.per_source.end() && --it->second == 0) state.per_source.erase(it);
    --state.in_handshake;
}

asio::awaitable<void> Server::refuse_busy(Stream stream, std::shared_ptr<State> state) {
    try {
        Pin pin(stream.trail());
        co_await refuse(pin.trail, DenyReason::busy);
    } catch (...) {
        // Nothing to tell anyone: the connection is closed either way.
    }
    --state->refusing;
}

asio::awaitable<void> Server::serve_one(Stream stream, Authenticator chain, Handler handler,
                                        ServerOptions options, std::shared_ptr<State> state,
                                        asio::ip::address source) {
    // A detached coroutine: nothing may escape it, and nothing is dropped
    // silently either; what no one else can take goes to on_error.
    asio::ip::tcp::endpoint peer;
    std::optional<Session> session;
    try {
        peer = stream.remote_endpoint();
        session = co_await run_chain(std::move(stream), chain, options);
    } catch (...) {
        report(options, {peer, "driver", what_of(std::current_exception())});
    }
    release_slot(*state, source);
    if (!session) co_return;
    // The handler runs as a coroutine of its own and this frame ends here, so
    // a connection that sits idle for hours holds the handler's frames only,
    // not this one's (the chain's arguments and a second Session: ~3 KiB).
    // The completion handler keeps the Handler alive, at a fixed address: a
    // lambda coroutine reaches its captures through its closure object.
    auto executor = co_await asio::this_coro::executor;
    try {
        auto kept = std::make_shared<const Handler>(std::move(handler));
        auto work = (*kept)(std::move(*session));
        asio::co_spawn(executor, std::move(work),
                       [kept, on_error = options.on_error, peer](const std::exception_ptr& error) {
                           if (error) report(on_error, {peer, "handler", what_of(error)});
                       });
    } catch (...) {
        // The handler threw before it returned its coroutine.
        report(options, {peer, "handler", what_of(std::current_exception())});
    }
}

namespace {
asio::awaitable<Session> run_client_chain(Stream stream, Authenticator client_chain, ClientOptions options) {
    auto trail = stream.trail();
    trail->set_side(ConnectionTrail::Side::client);
    Pin pin(trail);
    std::optional<AuthenticationError> failure;
    try {
        auto started = std::chrono::system_clock::now();
        auto clock_start = std::chrono::steady_clock::now();
        // The server's verdict on its whole chain is part of the handshake.
        Authenticator verdict = [](Session s) -> asio::awaitable<Session> {
            co_await s.stream.receive_verdict();
            co_return s;
        };
        Authenticator timed = with_timeout(options.handshake_timeout)(std::move(client_chain) | verdict);
        Session start = start_session(std::move(stream));
        Session session = co_await timed(std::move(start));
        session.handshake = {started, std::chrono::steady_clock::now() - clock_start};
        co_return session;
    } catch (const AuthenticationError& e) {
        failure = e;
    } catch (...) {
        // I/O failed (or a layer has a bug): nothing to tell the server; close.
        trail->close_top();
        throw;
    }
    // Tell the server we gave up (it logs why), then close.
    co_await refuse(trail, failure->reason());
    throw *failure;
}

}  // namespace

// Both copy (or move) the chain into the coroutine's frame here, before it first runs.
asio::awaitable<Session> authenticate(Stream stream, const Authenticator& client_chain, ClientOptions options) {
    return run_client_chain(std::move(stream), client_chain, options);
}

// Defined whatever compiled the library: a program built with clang calls it.
asio::awaitable<Session> authenticate(Stream stream, Authenticator&& client_chain, ClientOptions options) {
    return run_client_chain(std::move(stream), std::move(client_chain), options);
}

}  // namespace authchain
