#include <authchain/relay/forward.hpp>

#include <asio/this_coro.hpp>
#include <stdexcept>

#include <authchain/compose/detail/as_tuple_awaitable.hpp>
#include <authchain/relay/connect.hpp>
#include <authchain/relay/detail/relay.hpp>
#include <authchain/relay/proxy_v2.hpp>

namespace authchain {

namespace {

using clock = std::chrono::steady_clock;

// What a close from outside reaches; touched on the forward's strand only.
struct Reach {
    Stream& client;
    Stream& backend;
    std::shared_ptr<ConnectionTrail> handshake;  // the backend stack while client_chain runs
    bool closed = false;

    void close() noexcept {
        closed = true;
        client.close();
        backend.close();
        if (handshake) handshake->close_top();
    }
};

void fail(ForwardSummary& summary, ForwardOutcome outcome, std::string text,
          ForwardSide side = ForwardSide::none) {
    summary.outcome = outcome;
    summary.error_text = std::move(text);
    summary.closed_first = side;
}

// Connects the backend and runs the client chain on it. False: failed, the
// summary says why.
asio::awaitable<bool> open_backend(Stream& remote, Reach& reach, const Endpoint& backend,
                                   const ForwardOptions& options, ForwardSummary& summary) {
    try {
        if (options.open) {
            OpenedStream opened = co_await options.open();
            remote = std::move(opened.stream);
            summary.backend_credentials = std::move(opened.credentials);
            co_return true;
        }
        Stream stream = co_await connect_to(backend, options.connect_timeout, options.keepalive);
        if (!options.client_chain) {
            remote = std::move(stream);
            co_return true;
        }
        reach.handshake = stream.trail();
        ClientOptions client_options{.handshake_timeout = options.handshake_timeout};
        Session backend_session = co_await authenticate(std::move(stream), options.client_chain, client_options);
        remote = std::move(backend_session.stream);
        summary.backend_credentials = std::make_shared<const Credentials>(std::move(backend_session.credentials));
        reach.handshake = nullptr;
        co_return true;
    } catch (const AuthenticationError& e) {
        fail(summary, ForwardOutcome::refused, e.detail());
        summary.refusal = e.reason();
    } catch (const std::exception& e) {
        fail(summary, ForwardOutcome::backend_unavailable, backend.to_string() + ": " + e.what());
    }
    reach.handshake = nullptr;
    co_return false;
}

// Sends the PROXY v2 header for `client` on `backend`. False: failed.
asio::awaitable<bool> send_proxy_header(const Session& client, Stream& backend, const ForwardOptions& options,
                                        ForwardSummary& summary) {
    // The address the client dialled; the configured one when its transport cannot tell.
    auto destination = client.stream.local_endpoint();
    if (destination.port() == 0) destination = options.proxy_destination;
    Bytes header;
    try {
        header = proxy_v2::encode_for(client.credentials.peer.value_or({}), destination, client.credentials);
    } catch (const std::length_error& e) {
        fail(summary, ForwardOutcome::proxy_header_failed, e.what());
        co_return false;
    }
    try {
        co_await write_all(backend, asio::buffer(header));
        co_return true;
    } catch (const std::exception& e) {
        fail(summary, ForwardOutcome::proxy_header_failed, std::string("sending the PROXY header: ") + e.what(),
             ForwardSide::backend);
    }
    co_return false;
}

ForwardSide side(PumpSide s) {
    if (s == PumpSide::a) return ForwardSide::client;
    if (s == PumpSide::b) return ForwardSide::backend;
    return ForwardSide::none;
}

// The pump's summary, as the forward's.
void take(const PumpSummary& p, const Reach& reach, ForwardSummary& summary) {
    summary.client_to_backend = p.a_to_b;
    summary.backend_to_client = p.b_to_a;
    summary.closed_first = side(p.first_closed);
    summary.integrity_failure = side(p.rejected);
    summary.error_text = p.error_text;
    summary.idle = p.idle;
    if (!p.error)
        summary.outcome = ForwardOutcome::forwarded;
    else
        summary.outcome = reach.closed ? ForwardOutcome::closed : ForwardOutcome::error;
}

struct Target {
    Endpoint backend;
    ForwardOptions options;
    ForwardReport report;
};

// forward() into the caller's summary. Everything by reference: the frame of
// a connection that sits idle is small (no copy of the options, of the
// summary or of a second Session).
asio::awaitable<void> forward_into(Session& session, const Endpoint& backend, const ForwardOptions& options,
                                   ForwardSummary& summary) {
    const auto started = clock::now();
    Stream remote;
    Reach reach{session.stream, remote};
    std::optional<LiveForwards::Guard> registered;  // before it goes, nothing can reach `reach`
    if (options.live) {
        if (options.live->stopping()) {
            session.stream.close();
            fail(summary, ForwardOutcome::stopping, "shutting down");
            co_return;
        }
        auto executor = co_await asio::this_coro::executor;
        std::function<void()> close = [&reach] { reach.close(); };
        registered.emplace(options.live->add(executor, std::move(close)));
    }

    bool ready = co_await open_backend(remote, reach, backend, options, summary);
    if (ready && reach.closed) {
        fail(summary, ForwardOutcome::closed, "closed before the pump started");
        ready = false;
    }
    if (ready && options.proxy_v2) ready = co_await send_proxy_header(session, remote, options, summary);
    summary.setup = clock::now() - started;
    if (ready) {
        // pump(), without a frame of its own: an idle connection keeps this
        // frame and the relay in it (relay/detail/relay.hpp).
        detail::Relay relay(session.stream, remote, options.pump, co_await asio::this_coro::executor);
        relay.start();
        if (relay.running()) co_await relay.done().async_wait(as_tuple_awaitable);
        take(relay.summary(), reach, summary);
    }
    if (!ready && reach.closed) summary.outcome = ForwardOutcome::closed;

    session.stream.close();
    remote.close();
    summary.duration = clock::now() - started;
}

asio::awaitable<void> forward_and_report(std::shared_ptr<const Target> target, Session session) {
    ForwardSummary summary;
    co_await forward_into(session, target->backend, target->options, summary);
    if (target->report) target->report(session, summary);
}

}  // namespace

asio::awaitable<ForwardSummary> forward(Session& session, Endpoint backend, ForwardOptions options) {
    ForwardSummary summary;
    co_await forward_into(session, backend, options, summary);
    co_return summary;
}

Handler forward_to(Endpoint backend, ForwardOptions options, ForwardReport report) {
    auto target = std::make_shared<const Target>(Target{std::move(backend), std::move(options), std::move(report)});
    return [target](Session session) { return forward_and_report(target, std::move(session)); };
}

std::string_view to_string(ForwardOutcome outcome) {
    switch (outcome) {
        case ForwardOutcome::forwarded: return "forwarded";
        case ForwardOutcome::error: return "error";
        case ForwardOutcome::closed: return "closed";
        case ForwardOutcome::backend_unavailable: return "backend unavailable";
        case ForwardOutcome::refused: return "refused";
        case ForwardOutcome::proxy_header_failed: return "PROXY header failed";
        case ForwardOutcome::stopping: return "stopping";
    }
    return "?";
}

std::string_view to_string(ForwardSide side) {
    switch (side) {
        case ForwardSide::client: return "client";
        case ForwardSide::backend: return "backend";
        case ForwardSide::none: break;
    }
    return "none";
}

}  // namespace authchain
