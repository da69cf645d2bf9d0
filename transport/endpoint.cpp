#include <authchain/transport/endpoint.hpp>

#include <charconv>
#include <stdexcept>

namespace authchain {

namespace {

std::string host_port_text(const std::string& host, std::uint16_t port) {
    if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
    return host + ":" + std::to_string(port);
}

}  // namespace

std::string Endpoint::to_string() const {
    if (is_unix()) return "unix:" + unix_path.string();
    return host_port_text(host, port);
}

std::string endpoint_text(const asio::ip::tcp::endpoint& e) {
    return host_port_text(e.address().to_string(), e.port());
}

Endpoint parse_host_port(std::string_view text, std::string_view default_host) {
    auto bad = [&](std::string_view why) {
        return std::invalid_argument("invalid address \"" + std::string(text) + "\": " + std::string(why));
    };
    Endpoint out;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos) throw bad("missing ']'");
        out.host = std::string(text.substr(1, close - 1));
        auto rest = text.substr(close + 1);
        if (rest.empty() || rest.front() != ':') throw bad("expected :port after ']'");
        port_text = rest.substr(1);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            port_text = text;
        } else {
            if (text.find(':') != colon) throw bad("IPv6 addresses need brackets: [::1]:port");
            out.host = std::string(text.substr(0, colon));
            port_text = text.substr(colon + 1);
        }
    }
    if (out.host.empty()) out.host = std::string(default_host);
    unsigned port = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
        throw bad("port must be a number from 0 to 65535");
    out.port = static_cast<std::uint16_t>(port);
    return out;
}

}  // namespace authchain
