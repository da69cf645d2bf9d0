// The metrics registry and its text format, without a process: names,
// labels and the certificate-expiry hook layers call.
#include <doctest/doctest.h>

#include <sstream>

#include <authchain/compose/certificate_expiry.hpp>
#include "tools/metrics.hpp"

using namespace authchain;
using namespace authchain::tools;

namespace {

// The value of `series` (as written) in a scrape; -1 if absent.
double value_of(const std::string& text, const std::string& series) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
    return -1;
}

}  // namespace

TEST_CASE("metrics: every unlabelled metric is there from the start, at zero, with Prometheus names and types") {
    Metrics m;
    std::string text = m.scrape();
    CHECK(text.find("# TYPE authchain_connections_accepted_total counter") != std::string::npos);
    CHECK(text.find("# TYPE authchain_connections_active gauge") != std::string::npos);
    CHECK(text.find("# TYPE authchain_handshake_duration_seconds histogram") != std::string::npos);
    CHECK(text.find("# TYPE authchain_session_duration_seconds histogram") != std::string::npos);
    // A family whose label values come later (denied by reason and layer, a
    // certificate) is written once it has a series.
    CHECK(value_of(text, "authchain_connections_accepted_total") == 0);
    CHECK(value_of(text, "authchain_connections_resumed_total") == 0);
    CHECK(value_of(text, "authchain_bytes_total{direction=\"in\"}") == 0);
    CHECK(value_of(text, "authchain_config_reloads_total{result=\"failure\"}") == 0);
    CHECK(value_of(text, "authchain_backend_errors_total") == 0);
    CHECK(value_of(text, "authchain_multiplex_channels_total{result=\"started\"}") == 0);
    CHECK(value_of(text, "authchain_multiplex_channels_total{result=\"failed\"}") == 0);
}

TEST_CASE("metrics: what the service reports moves the right series") {
    Metrics m;
    m.accepted(std::chrono::milliseconds(3));
    m.accepted(std::chrono::milliseconds(1), /*resumed=*/true);
    m.session_started();
    m.denied("host blocked", "ip_filter");
    m.denied("host blocked", "ip_filter");
    m.denied("timeout", "public_key");
    m.forwarded(std::chrono::seconds(2), 100, 2000, /*backend_error=*/true);
    m.reloaded(true);
    m.channel_ended(/*started=*/true);
    m.channel_ended(/*started=*/true);
    m.channel_ended(/*started=*/false);
    std::string text = m.scrape();
    CHECK(text.find("# TYPE authchain_connections_denied_total counter") != std::string::npos);
    CHECK(value_of(text, "authchain_connections_accepted_total") == 2);
    CHECK(value_of(text, "authchain_connections_resumed_total") == 1);
    CHECK(value_of(text, "authchain_connections_active") == 1);
    CHECK(value_of(text, "authchain_connections_denied_total{layer=\"ip_filter\",reason=\"host blocked\"}") == 2);
    CHECK(value_of(text, "authchain_connections_denied_total{layer=\"public_key\",reason=\"timeout\"}") == 1);
    CHECK(value_of(text, "authchain_handshake_duration_seconds_bucket{le=\"0.005\"}") == 2);
    CHECK(value_of(text, "authchain_handshake_duration_seconds_bucket{le=\"0.0025\"}") == 1);
    CHECK(value_of(text, "authchain_session_duration_seconds_sum") == 2);
    CHECK(value_of(text, "authchain_bytes_total{direction=\"in\"}") == 100);
    CHECK(value_of(text, "authchain_bytes_total{direction=\"out\"}") == 2000);
    CHECK(value_of(text, "authchain_backend_errors_total") == 1);
    CHECK(value_of(text, "authchain_config_reloads_total{result=\"success\"}") == 1);
    CHECK(value_of(text, "authchain_multiplex_channels_total{result=\"started\"}") == 2);
    CHECK(value_of(text, "authchain_multiplex_channels_total{result=\"failed\"}") == 1);
    m.session_ended();
    CHECK(value_of(m.scrape(), "authchain_connections_active") == 0);
}

TEST_CASE("metrics: a certificate a layer reports appears with its expiry as Unix seconds; the last report wins") {
    using namespace std::chrono;
    Metrics m;
    auto when = system_clock::time_point(seconds(1893456000));  // 2030-01-01
    report_certificate_expiry("/etc/authchain/test-server.pem", when - hours(24));
    report_certificate_expiry("/etc/authchain/test-server.pem", when);  // reloaded
    std::string text = m.scrape();
    CHECK(text.find("# TYPE authchain_certificate_expiry_timestamp_seconds gauge") != std::string::npos);
    CHECK(value_of(text, "authchain_certificate_expiry_timestamp_seconds{certificate=\"/etc/authchain/test-server.pem\"}") ==
          1893456000.0);
}
