// The Prometheus metrics of `authchain gate` and `tunnel` (metrics_listen):
// a prometheus-cpp registry, its text serializer, and a small HTTP/1.0
// responder for `GET /metrics` on the service's own io_context.
//
// Why not prometheus-cpp's `pull` Exposer: it brings civetweb, a second
// HTTP server with its own thread pool, into a process whose data path is
// one Asio io_context; an endpoint that answers one GET needs neither. The
// registry and the exposition format (the parts worth reusing) are
// prometheus-cpp's.
//
//   authchain_connections_accepted_total          passed the chain
//   authchain_connections_resumed_total           of those, by a resumption ticket
//   authchain_connections_active                  being forwarded now
//   authchain_connections_denied_total{reason,layer}
//                                                 coarse reason and the layer that refused
//                                                 (labels never carry identities or addresses)
//   authchain_handshake_duration_seconds          histogram, accepted handshakes
//   authchain_session_duration_seconds            histogram, forwarded sessions
//   authchain_bytes_total{direction}              "in": client to backend, "out": back
//   authchain_backend_errors_total                backend unreachable or failing
//   authchain_config_reloads_total{result}        "success", "failure"
//   authchain_multiplex_channels_total{result}    gate: multiplexed channels over; "started" (the hellos
//                                                 passed), "failed" (not a multiplexing peer, ...)
//   authchain_certificate_expiry_timestamp_seconds{certificate}
//                                                 from compose/certificate_expiry.hpp
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace authchain::tools {

class Metrics {
public:
    Metrics();
    ~Metrics();
    Metrics(const Metrics&) = delete;
    Metrics& operator=(const Metrics&) = delete;

    // All thread-safe.
    // `resumed`: a resumption ticket stood in for the layers after it.
    void accepted(std::chrono::steady_clock::duration handshake, bool resumed = false);
    void denied(std::string_view reason, std::string_view layer);
    void session_started();  // an accepted connection reached the handler
    void session_ended();    // and left it
    // A forward is over: its length, bytes each way, and whether the far side failed.
    void forwarded(std::chrono::steady_clock::duration duration, std::uint64_t bytes_in, std::uint64_t bytes_out,
                   bool backend_error);
    void reloaded(bool ok);
    // A multiplexed channel is over; `started`: its hellos passed.
    void channel_ended(bool started);

    // The text exposition format (version 0.0.4) of every metric now.
    std::string scrape();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

// Answers `GET /metrics` with metrics.scrape() on each connection accepted
// from `acceptor` (anything else: 404; a request must arrive within 5 s and
// fit in 8 KiB). Runs until the acceptor is closed.
asio::awaitable<void> serve_metrics(asio::ip::tcp::acceptor& acceptor, Metrics& metrics);

}  // namespace authchain::tools
