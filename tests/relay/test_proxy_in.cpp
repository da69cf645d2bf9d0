// read_proxy_header over loopback TCP: exactly the header is consumed, and
// every malformed, cut or silent start is refused.
#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_future.hpp>
#include <asio/write.hpp>

#include <authchain/relay/proxy_in.hpp>

using namespace authchain;
using namespace std::chrono_literals;

namespace {

// What read_proxy_header makes of `sent` (then the client half-closes
// unless `keep_open`), and the bytes left after it on the socket.
struct Read {
    std::optional<proxy_v2::Header> header;
    std::string error;  // what() when it threw
    std::string rest;
};

Read read_from(const std::string& sent, bool keep_open = false, std::chrono::milliseconds limit = 5s) {
    asio::io_context io;
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket client(io);
    client.connect(acceptor.local_endpoint());
    asio::write(client, asio::buffer(sent));
    if (!keep_open) client.shutdown(asio::socket_base::shutdown_send);
    asio::ip::tcp::socket server = acceptor.accept();
    Read out;
    auto done = asio::co_spawn(io, [&]() -> asio::awaitable<void> {
        try {
            out.header = co_await read_proxy_header(server, limit);
            std::array<char, 64> buf{};
            std::error_code ec;
            for (;;) {
                std::size_t n = server.read_some(asio::buffer(buf), ec);
                if (ec) break;
                out.rest.append(buf.data(), n);
            }
        } catch (const std::exception& e) {
            out.error = e.what();
        }
    }, asio::use_future);
    io.run_for(20s);
    return out;
}

std::string header_from(const std::string& source) {
    proxy_v2::Header h;
    h.source = {asio::ip::make_address(source), 40001};
    h.destination = {asio::ip::make_address("127.0.0.1"), 7000};
    h.tlvs = {{0xE1, "alice"}};
    Bytes b = proxy_v2::encode(h);
    return std::string(b.begin(), b.end());
}

}  // namespace

TEST_CASE("read_proxy_header: a valid header is read exactly; the bytes after it stay on the socket") {
    for (std::string source : {"192.0.2.10", "2001:db8::7"}) {
        Read r = read_from(header_from(source) + "payload");
        REQUIRE(r.header);
        CHECK(r.header->source == asio::ip::tcp::endpoint(asio::ip::make_address(source), 40001));
        CHECK(r.header->destination.port() == 7000);
        CHECK(r.rest == "payload");
    }
}

TEST_CASE("read_proxy_header: LOCAL (a balancer's own check) is returned as local") {
    proxy_v2::Header h;
    h.local = true;
    Bytes b = proxy_v2::encode(h);
    Read r = read_from(std::string(b.begin(), b.end()));
    REQUIRE(r.header);
    CHECK(r.header->local);
}

TEST_CASE("read_proxy_header: connect and close without a byte is a health check, not a header") {
    Read r = read_from("");
    CHECK_FALSE(r.header);
    CHECK(r.error.empty());
}

TEST_CASE("read_proxy_header: garbage, a v1 text header, a cut header and an overlong one are refused") {
    CHECK(read_from("GET / HTTP/1.1\r\nHost: x\r\n\r\n").error.find("bad signature") != std::string::npos);
    CHECK(read_from("PROXY TCP4 192.0.2.1 192.0.2.2 1 2\r\n").error.find("bad signature") != std::string::npos);
    CHECK(read_from("\r\n\r\n").error.find("bad signature") == std::string::npos);  // a valid prefix, then EOF
    CHECK_FALSE(read_from("\r\n\r\n").error.empty());
    std::string full = header_from("192.0.2.10");
    CHECK_FALSE(read_from(full.substr(0, full.size() - 1)).error.empty());  // cut, then EOF
    std::string overlong = full.substr(0, 14) + std::string("\xff\xff", 2) + std::string(64, 'x');
    CHECK(read_from(overlong).error.find("too long") != std::string::npos);
}

TEST_CASE("read_proxy_header: a header that never completes ends at the limit") {
    std::string full = header_from("192.0.2.10");
    Read r = read_from(full.substr(0, 20), /*keep_open=*/true, 200ms);
    CHECK_FALSE(r.header);
    CHECK(r.error.find("timed out") != std::string::npos);
}
