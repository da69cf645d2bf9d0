#include "config/values.hpp"

#include <asio/ip/address.hpp>
#include <stdexcept>
#include <string>

#include <authchain/transport/tcp.hpp>

namespace authchain::config {
namespace {

constexpr std::size_t max_text = 1024;
constexpr std::size_t max_unix_path = 107;  // sun_path minus the NUL

[[noreturn]] void bad(std::string_view text, std::string_view why) {
    std::string shown(text.substr(0, 80));
    throw std::invalid_argument("\"" + shown + "\": " + std::string(why));
}

bool printable(std::string_view text) {
    for (unsigned char c : text)
        if (c <= 0x20 || c == 0x7f) return false;
    return true;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0) bad(text, "a duration is a number and a unit: 500ms, 10s, 5m, 2h");
    if (digits > 9) bad(text, "duration too long");
    long long n = std::stoll(std::string(text.substr(0, digits)));
    std::string_view unit = text.substr(digits);
    long long ms_per_unit = 0;
    if (unit == "ms") ms_per_unit = 1;
    else if (unit == "s") ms_per_unit = 1000;
    else if (unit == "m") ms_per_unit = 60'000;
    else if (unit == "h") ms_per_unit = 3'600'000;
    else bad(text, "unknown duration unit (use ms, s, m or h)");
    return std::chrono::milliseconds(n * ms_per_unit);  // < 1e9 * 3.6e6: fits in 64 bits
}

Endpoint parse_endpoint(std::string_view text, EndpointRole role) {
    if (text.empty()) bad(text, "empty address");
    if (text.size() > max_text) bad(text, "address too long");
    if (role == EndpointRole::backend && (text.starts_with("unix:") || text.starts_with("/"))) {
        std::string_view path = text.starts_with("unix:") ? text.substr(5) : text;
        if (path.empty()) bad(text, "empty Unix socket path");
        if (path.size() > max_unix_path) bad(text, "Unix socket path longer than 107 bytes");
        if (path.find('\0') != std::string_view::npos) bad(text, "NUL in Unix socket path");
        Endpoint e;
        e.unix_path = std::filesystem::path(std::string(path));
        return e;
    }
    if (!printable(text)) bad(text, "spaces or control characters in address");
    Endpoint hp;
    try {
        hp = parse_host_port(text, "127.0.0.1");
    } catch (const std::invalid_argument&) {
        bad(text, role == EndpointRole::backend
                      ? "expected host:port, [v6]:port, unix:PATH or /absolute/path"
                      : "expected host:port or [v6]:port");
    }
    if (hp.host.empty()) bad(text, "empty host");
    if (role == EndpointRole::listen) {
        std::error_code ec;
        (void)asio::ip::make_address(hp.host, ec);
        if (ec) bad(text, "listen needs a literal IP address (127.0.0.1, ::1, 0.0.0.0)");
    } else if (hp.port == 0) {
        bad(text, "port 0 cannot be connected to");
    }
    return hp;
}

}  // namespace authchain::config
