// Forward: an authenticated Session, taken to a backend. The data path the
// gate and the tunnel share:
//
//   connect the backend (TCP or Unix, within connect_timeout)
//   -> [client_chain: authenticate on the backend stream]   the tunnel: reach a gate
//   -> [PROXY v2 header with the identity TLVs]             the gate: tell the backend who
//   -> pump both ways until both directions are done
//
// Two forms. A step in a handler of your own:
//
//     ForwardOptions options{.proxy_v2 = true};
//     ForwardSummary summary = co_await forward(session, backend, options);
//
// or the whole handler of a Server:
//
//     Server server(listener, chain, forward_to(backend, options, report));
//
// The backend is dialled only after the server chain has accepted the
// session: a refused connection never reaches it.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <authchain/compose/server.hpp>
#include <authchain/compose/session.hpp>
#include <authchain/relay/live_forwards.hpp>
#include <authchain/relay/pump.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain {

// The far side ForwardOptions::open opened: its stream, and what was
// proven about it (null: nothing).
struct OpenedStream {
    Stream stream;
    std::shared_ptr<const Credentials> credentials{};
};

struct ForwardOptions {
    std::chrono::milliseconds connect_timeout{10000};
    // TCP keepalive on a TCP backend socket (idle time before probes); zero: off.
    std::chrono::seconds keepalive{};
    // Run on the backend stream before pumping (a client-side chain, e.g.
    // client::secure_channel() | client::public_key(...)); empty: none.
    // A refusal ends the forward (ForwardOutcome::refused).
    Authenticator client_chain{};
    std::chrono::steady_clock::duration handshake_timeout = std::chrono::seconds(10);
    // Opens the far side instead of connecting the backend and running
    // client_chain on it: e.g. a stream of a multiplexed channel
    // (MultiplexDialer::opener, relay/multiplex.hpp). It throws as they
    // would: AuthenticationError when refused, anything else when the far
    // side cannot be reached.
    std::function<asio::awaitable<OpenedStream>()> open{};
    // Send a PROXY v2 header first (relay/proxy_v2.hpp): source = the
    // client's peer, destination = the address the client dialled
    // (its stream's local_endpoint()), else `proxy_destination`.
    bool proxy_v2 = false;
    asio::ip::tcp::endpoint proxy_destination{};
    PumpOptions pump{};
    // Optional: registers the forward so it can be closed from outside.
    std::shared_ptr<LiveForwards> live{};
};

enum class ForwardOutcome {
    forwarded,            // pumped until both sides were done
    error,                // the pump ended on an I/O error (closed_first says whose)
    closed,               // closed from outside (LiveForwards::close_all) while pumping
    backend_unavailable,  // connect failed or timed out, or the client chain's I/O failed
    refused,              // the client chain was refused (refusal says why)
    proxy_header_failed,  // too long to encode (closed_first none), or the backend closed (backend)
    stopping,             // not started: the LiveForwards was stopping
};

enum class ForwardSide { none, client, backend };

struct ForwardSummary {
    ForwardOutcome outcome = ForwardOutcome::error;
    std::uint64_t client_to_backend = 0;  // bytes
    std::uint64_t backend_to_client = 0;
    // Connect, client chain and PROXY header: until the pump started or the forward failed.
    std::chrono::steady_clock::duration setup{};
    std::chrono::steady_clock::duration duration{};  // the whole forward
    ForwardSide closed_first = ForwardSide::none;   // who ended first
    bool idle = false;  // the pump closed both sides after PumpOptions::idle_timeout
    // With ForwardOutcome::error: the side whose stream failed its integrity
    // check (a tampered or truncated secure channel); the other side was
    // reset (RST), not closed.
    ForwardSide integrity_failure = ForwardSide::none;
    std::optional<DenyReason> refusal{};             // with ForwardOutcome::refused
    // Local detail: "127.0.0.1:6379: Connection refused", the refusal's
    // detail, the pump's first failure ("b: read: ..."). Empty when forwarded.
    std::string error_text{};
    // What client_chain proved about the backend (null without one, or when
    // it failed). A pointer: a gate's forwards have no client chain, and a
    // summary lives in the frame of every idle connection.
    std::shared_ptr<const Credentials> backend_credentials{};
};

// Forwards `session` to `backend` as described at the top. Never throws for
// network errors (they land in the summary). When it returns, the client
// stream and the backend stream are closed. Runs on the calling coroutine's
// executor, which must be the session stream's strand.
asio::awaitable<ForwardSummary> forward(Session& session, Endpoint backend, ForwardOptions options);

// Told about each forward when it is over; the session's stream is closed
// by then, its credentials and handshake are intact.
using ForwardReport = std::function<void(const Session& client, const ForwardSummary& summary)>;

// The Handler form for Server: forward(), then `report`.
Handler forward_to(Endpoint backend, ForwardOptions options = {}, ForwardReport report = {});

std::string_view to_string(ForwardOutcome outcome);
std::string_view to_string(ForwardSide side);  // "none", "client", "backend"

}  // namespace authchain
