#include "compose/server.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace authchain {

namespace {

// How long a refused peer gets to take the deny message before we close.
constexpr auto deny_grace = std::chrono::seconds(1);

// Sends the coarse reason (where the transport can carry it), then closes.
asio::awaitable<void> refuse(const std::shared_ptr<ConnectionTrail>& trail, DenyReason reason) {
    auto top = trail->top.lock();
    trail->unpin();
    if (!top) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor, deny_grace);
    timer.async_wait([top](std::error_code ec) {
        if (!ec) top->close();
    });
    try {
        co_await top->send_deny(reason);
    } catch (const std::exception&) {
        // The peer is gone or not reading: nothing more to tell it.
    }
    timer.cancel();
    top->close();
}

struct Pin {
    std::shared_ptr<ConnectionTrail> trail;
    explicit Pin(std::shared_ptr<ConnectionTrail> t) : trail(std::move(t)) { trail->pin(); }
    ~Pin() { trail->unpin(); }
    Pin(const Pin&) = delete;
    Pin& operator=(const Pin&) = delete;
};

// Runs the chain under the deadline; returns the session or the refusal.
asio::awaitable<std::optional<Session>> run_chain(Stream stream, const Authenticator& chain,
                                                  std::chrono::steady_clock::duration limit,
                                                  const AuditSink& audit) {
    auto trail = stream.trail();
    Pin pin(trail);
    Authenticator timed = with_timeout(limit, chain);
    if (audit) timed = audited(audit, std::move(timed));
    std::optional<DenyReason> reason;
    auto started = std::chrono::system_clock::now();
    auto clock_start = std::chrono::steady_clock::now();
    try {
        Session session = co_await timed(start_session(std::move(stream)));
        session.handshake = {started, std::chrono::steady_clock::now() - clock_start};
        co_return session;
    } catch (const AuthenticationError& e) {
        reason = e.reason();
    } catch (const std::exception&) {
        reason = DenyReason::protocol_error;
    }
    co_await refuse(trail, *reason);
    co_return std::nullopt;
}

}  // namespace

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
            stream = co_await listener_.accept();
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
        if (state_->in_handshake.load() >= options_.max_handshakes) {
            if (options_.audit) {
                AuditRecord record;
                record.time = std::chrono::system_clock::now();
                record.peer = stream.remote_endpoint();
                record.reason = DenyReason::busy;
                record.detail = "too many connections in their handshake";
                options_.audit(record);
            }
            stream.close();
            continue;
        }
        ++state_->in_handshake;
        asio::co_spawn(asio::make_strand(executor),
                       serve_one(std::move(stream), chain_, handler_, options_, state_), asio::detached);
    }
}

asio::awaitable<void> Server::serve_one(Stream stream, Authenticator chain, Handler handler,
                                        ServerOptions options, std::shared_ptr<State> state) {
    std::optional<Session> session;
    try {
        session = co_await run_chain(std::move(stream), chain, options.handshake_timeout, options.audit);
    } catch (...) {
    }
    --state->in_handshake;
    if (!session) co_return;
    try {
        co_await handler(std::move(*session));
    } catch (const std::exception&) {
        // The handler owns its errors; the connection ends either way.
    }
}

asio::awaitable<Session> authenticate(Stream stream, Authenticator client_chain, ClientOptions options) {
    auto trail = stream.trail();
    Pin pin(trail);
    std::optional<AuthenticationError> failure;
    try {
        auto started = std::chrono::system_clock::now();
        auto clock_start = std::chrono::steady_clock::now();
        Authenticator timed = with_timeout(options.handshake_timeout, client_chain);
        Session session = co_await timed(start_session(std::move(stream)));
        session.handshake = {started, std::chrono::steady_clock::now() - clock_start};
        co_return session;
    } catch (const AuthenticationError& e) {
        failure = e;
    } catch (const std::system_error& e) {
        if (auto top = trail->top.lock()) top->close();
        throw;
    }
    // Tell the server we gave up (it logs why), then close.
    co_await refuse(trail, failure->reason());
    throw *failure;
}

}  // namespace authchain
