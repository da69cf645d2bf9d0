#include "tools/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <mutex>

#include <authchain/compose/certificate_expiry.hpp>
#include <authchain/compose/deadline.hpp>
#include <authchain/compose/detail/as_tuple_awaitable.hpp>

namespace authchain::tools {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

double seconds(std::chrono::steady_clock::duration d) { return std::chrono::duration<double>(d).count(); }

const Histogram::BucketBoundaries handshake_buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                   0.1,   0.25,   0.5,   1,    2.5,   5, 10};
const Histogram::BucketBoundaries session_buckets{0.01, 0.1, 1, 10, 60, 300, 1800, 3600, 21600, 86400};

}  // namespace

struct Metrics::Impl {
    prometheus::Registry registry;
    Counter& accepted = BuildCounter()
                            .Name("authchain_connections_accepted_total")
                            .Help("Connections that passed the whole chain")
                            .Register(registry)
                            .Add({});
    Counter& resumed = BuildCounter()
                           .Name("authchain_connections_resumed_total")
                           .Help("Accepted connections a resumption ticket let skip the layers after it")
                           .Register(registry)
                           .Add({});
    Gauge& active = BuildGauge()
                        .Name("authchain_connections_active")
                        .Help("Accepted connections being forwarded now")
                        .Register(registry)
                        .Add({});
    Family<Counter>& denied = BuildCounter()
                                  .Name("authchain_connections_denied_total")
                                  .Help("Refused connections by coarse reason and refusing layer")
                                  .Register(registry);
    Histogram& handshake = BuildHistogram()
                               .Name("authchain_handshake_duration_seconds")
                               .Help("Time the chain took for accepted connections")
                               .Register(registry)
                               .Add({}, handshake_buckets);
    Histogram& session = BuildHistogram()
                             .Name("authchain_session_duration_seconds")
                             .Help("Length of forwarded sessions")
                             .Register(registry)
                             .Add({}, session_buckets);
    Family<Counter>& bytes = BuildCounter()
                                 .Name("authchain_bytes_total")
                                 .Help("Bytes forwarded; in: client to backend, out: backend to client")
                                 .Register(registry);
    Counter& bytes_in = bytes.Add({{"direction", "in"}});
    Counter& bytes_out = bytes.Add({{"direction", "out"}});
    Counter& backend_errors = BuildCounter()
                                  .Name("authchain_backend_errors_total")
                                  .Help("Backend connections that failed or could not be made")
                                  .Register(registry)
                                  .Add({});
    Family<Counter>& reloads = BuildCounter()
                                   .Name("authchain_config_reloads_total")
                                   .Help("Configuration reloads (SIGHUP) by result")
                                   .Register(registry);
    Counter& reload_success = reloads.Add({{"result", "success"}});
    Counter& reload_failure = reloads.Add({{"result", "failure"}});
    Family<Counter>& channels = BuildCounter()
                                    .Name("authchain_multiplex_channels_total")
                                    .Help("Multiplexed channels over, by whether their hellos passed")
                                    .Register(registry);
    Counter& channels_started = channels.Add({{"result", "started"}});
    Counter& channels_failed = channels.Add({{"result", "failed"}});
    Family<Gauge>& expiry = BuildGauge()
                                .Name("authchain_certificate_expiry_timestamp_seconds")
                                .Help("When each configured certificate expires (Unix time)")
                                .Register(registry);
    std::mutex expiry_mutex;
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::accepted(std::chrono::steady_clock::duration handshake, bool resumed) {
    impl_->accepted.Increment();
    if (resumed) impl_->resumed.Increment();
    impl_->handshake.Observe(seconds(handshake));
}

void Metrics::denied(std::string_view reason, std::string_view layer) {
    impl_->denied.Add({{"reason", std::string(reason)}, {"layer", std::string(layer)}}).Increment();
}

void Metrics::session_started() { impl_->active.Increment(); }

void Metrics::session_ended() { impl_->active.Decrement(); }

void Metrics::forwarded(std::chrono::steady_clock::duration duration, std::uint64_t bytes_in,
                        std::uint64_t bytes_out, bool backend_error) {
    impl_->session.Observe(seconds(duration));
    impl_->bytes_in.Increment(static_cast<double>(bytes_in));
    impl_->bytes_out.Increment(static_cast<double>(bytes_out));
    if (backend_error) impl_->backend_errors.Increment();
}

void Metrics::reloaded(bool ok) { (ok ? impl_->reload_success : impl_->reload_failure).Increment(); }

void Metrics::channel_ended(bool started) {
    (started ? impl_->channels_started : impl_->channels_failed).Increment();
}

std::string Metrics::scrape() {
    {
        std::lock_guard lock(impl_->expiry_mutex);
        for (const auto& [name, when] : certificate_expiries()) {
            auto unix_seconds = std::chrono::duration<double>(when.time_since_epoch()).count();
            impl_->expiry.Add({{"certificate", name}}).Set(unix_seconds);
        }
    }
    return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

namespace {

constexpr std::size_t max_request = 8192;
constexpr std::size_t max_clients = 16;

std::string response(std::string_view status, std::string_view type, const std::string& body) {
    return "HTTP/1.0 " + std::string(status) + "\r\nContent-Type: " + std::string(type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

asio::awaitable<void> answer(asio::ip::tcp::socket socket, Metrics& metrics, std::shared_ptr<std::atomic<int>> count) {
    Deadline deadline(co_await asio::this_coro::executor, std::chrono::seconds(5), [&socket] {
        std::error_code ignored;
        socket.close(ignored);
    });
    asio::streambuf request(max_request);
    auto [ec, n] = co_await asio::async_read_until(socket, request, "\r\n", as_tuple_awaitable);
    if (!ec) {
        std::string line(asio::buffers_begin(request.data()),
                         asio::buffers_begin(request.data()) + static_cast<std::ptrdiff_t>(n));
        bool wanted = line.starts_with("GET /metrics ") || line.starts_with("GET /metrics\r");
        std::string reply = wanted ? response("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.scrape())
                                   : response("404 Not Found", "text/plain", "GET /metrics\n");
        co_await asio::async_write(socket, asio::buffer(reply), as_tuple_awaitable);
        std::error_code ignored;
        socket.shutdown(asio::socket_base::shutdown_send, ignored);
    }
    std::error_code ignored;
    socket.close(ignored);
    --*count;
}

}  // namespace

asio::awaitable<void> serve_metrics(asio::ip::tcp::acceptor& acceptor, Metrics& metrics) {
    auto count = std::make_shared<std::atomic<int>>(0);
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(as_tuple_awaitable);
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) co_return;
        if (ec) {  // out of descriptors: back off instead of spinning
            asio::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(as_tuple_awaitable);
            continue;
        }
        if (count->load() >= static_cast<int>(max_clients)) continue;  // the socket closes here
        ++*count;
        auto executor = asio::make_strand(acceptor.get_executor());
        asio::co_spawn(executor, answer(std::move(socket), metrics, count), asio::detached);
    }
}

}  // namespace authchain::tools
