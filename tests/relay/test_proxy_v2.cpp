// PROXY protocol v2: bytes checked against the spec (haproxy
// doc/proxy-protocol.txt, 2.2), the parser's refusals, and a real haproxy
// that accepts our header and reports the source we put in it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <signal.h>

#include <asio/co_spawn.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read_until.hpp>
#include <asio/steady_timer.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <thread>

#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"
#include <authchain/relay/proxy_v2.hpp>

using namespace authchain;
namespace pp = authchain::proxy_v2;

namespace {

Bytes hex(std::string_view h) {
    Bytes out;
    std::string digits;
    for (char c : h)
        if (c != ' ') digits += c;
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    return out;
}

asio::ip::tcp::endpoint ep(const char* addr, std::uint16_t port) {
    return {asio::ip::make_address(addr), port};
}

constexpr const char* sig = "0D0A0D0A000D0A515549540A";

}  // namespace

TEST_CASE("proxy v2: IPv4 PROXY header, byte by byte") {
    pp::Header h;
    h.source = ep("192.168.0.1", 56324);
    h.destination = ep("192.168.0.11", 443);
    // signature | 0x21 v2 PROXY | 0x11 TCP4 | len 12 | src | dst | sport | dport
    CHECK(pp::encode(h) == hex(std::string(sig) + "21 11 000C C0A80001 C0A8000B DC04 01BB"));
}

TEST_CASE("proxy v2: IPv6 PROXY header, byte by byte") {
    pp::Header h;
    h.source = ep("::1", 1);
    h.destination = ep("2001:db8::2", 0x1234);
    CHECK(pp::encode(h) == hex(std::string(sig) +
                               "21 21 0024 00000000000000000000000000000001"
                               "20010DB8000000000000000000000002 0001 1234"));
}

TEST_CASE("proxy v2: mixed families go out as IPv6 with the IPv4 side v4-mapped") {
    pp::Header h;
    h.source = ep("10.0.0.1", 80);
    h.destination = ep("::1", 81);
    CHECK(pp::encode(h) == hex(std::string(sig) +
                               "21 21 0024 00000000000000000000FFFF0A000001"
                               "00000000000000000000000000000001 0050 0051"));
    // Both v4-mapped: plain IPv4.
    h.destination = ep("::ffff:10.0.0.2", 81);
    CHECK(pp::encode(h) == hex(std::string(sig) + "21 11 000C 0A000001 0A000002 0050 0051"));
}

TEST_CASE("proxy v2: TLVs follow the addresses and count in the length") {
    pp::Header h;
    h.source = ep("192.168.0.1", 56324);
    h.destination = ep("192.168.0.11", 443);
    h.tlvs = {{0xE1, "alice"}, {0x05, ""}};
    // 12 address bytes + (3 + 5) + (3 + 0) = 23 = 0x17
    CHECK(pp::encode(h) == hex(std::string(sig) +
                               "21 11 0017 C0A80001 C0A8000B DC04 01BB"
                               "E1 0005 616C696365 05 0000"));
}

TEST_CASE("proxy v2: LOCAL carries no addresses") {
    pp::Header h;
    h.local = true;
    h.tlvs = {{0xE1, "ignored"}};
    CHECK(pp::encode(h) == hex(std::string(sig) + "20 00 0000"));
}

TEST_CASE("proxy v2: identity TLVs from credentials") {
    Credentials c;
    c.prove("secure_channel", &Credentials::channel_id, Bytes{0xDE, 0xAD, 0x01}, "channel_id");
    c.prove("public_key", &Credentials::key_fingerprint, std::string("SHA256:abc"), "key_fingerprint");
    c.prove("public_key", &Credentials::key_comment, std::string("bob@laptop"), "key_comment");
    c.prove("password", &Credentials::user, std::string("bob"), "user");
    auto tlvs = pp::identity_tlvs(c);
    std::vector<pp::TlvEntry> expected = {{0x05, "dead01"},
                                          {0xE0, "SHA256:abc"},
                                          {0xE1, "bob"},
                                          {0xE4, "bob@laptop"}};
    CHECK(tlvs == expected);

    Credentials anonymous;
    CHECK(pp::identity_tlvs(anonymous).empty());
}

TEST_CASE("proxy v2: the unique id is cut to the spec's 128 bytes") {
    Credentials c;
    c.prove("t", &Credentials::channel_id, Bytes(100, 0xAB), "channel_id");
    auto tlvs = pp::identity_tlvs(c);
    REQUIRE(tlvs.size() == 1);
    CHECK(tlvs[0].value.size() == 128);
}

TEST_CASE("proxy v2: oversized values are refused, not truncated") {
    pp::Header h;
    h.source = ep("127.0.0.1", 1);
    h.destination = ep("127.0.0.1", 2);
    h.tlvs = {{0xE1, std::string(70000, 'x')}};
    CHECK_THROWS_AS(pp::encode(h), std::length_error);
    h.tlvs = {{0xE1, std::string(40000, 'x')}, {0xE2, std::string(40000, 'y')}};
    CHECK_THROWS_AS(pp::encode(h), std::length_error);
}

TEST_CASE("proxy v2: parse reads back what encode wrote") {
    pp::Header h;
    h.source = ep("2001:db8::7", 40000);
    h.destination = ep("::1", 6379);
    h.tlvs = {{0x05, "00ff"}, {0xE0, "SHA256:x"}, {0xE2, "CN=client"}};
    Bytes wire = pp::encode(h);
    wire.push_back('!');  // payload after the header
    auto parsed = pp::parse(wire);
    REQUIRE(parsed);
    CHECK(parsed->size == wire.size() - 1);
    CHECK_FALSE(parsed->header.local);
    CHECK(parsed->header.source == h.source);
    CHECK(parsed->header.destination == h.destination);
    CHECK(parsed->header.tlvs == h.tlvs);
}

TEST_CASE("proxy v2: parse waits for more on a valid prefix") {
    pp::Header h;
    h.source = ep("1.2.3.4", 5);
    h.destination = ep("5.6.7.8", 9);
    Bytes wire = pp::encode(h);
    for (std::size_t n = 0; n < wire.size(); ++n)
        CHECK_FALSE(pp::parse(ByteView(wire).first(n)).has_value());
    CHECK(pp::parse(wire).has_value());
}

TEST_CASE("proxy v2: parse refuses malformed headers") {
    Bytes good = hex(std::string(sig) + "21 11 000C C0A80001 C0A8000B DC04 01BB");
    auto mutate = [&](std::size_t at, std::uint8_t v) {
        Bytes b = good;
        b[at] = v;
        return b;
    };
    CHECK_THROWS_AS(pp::parse(as_bytes("GET / HTTP/1.1\r\n")), std::invalid_argument);
    CHECK_THROWS_AS(pp::parse(mutate(3, 0x00)), std::invalid_argument);       // signature
    CHECK_THROWS_AS(pp::parse(mutate(12, 0x11)), std::invalid_argument);      // version 1
    CHECK_THROWS_AS(pp::parse(mutate(12, 0x22)), std::invalid_argument);      // command 2
    CHECK_THROWS_AS(pp::parse(mutate(13, 0x31)), std::invalid_argument);      // AF_UNIX
    CHECK_THROWS_AS(pp::parse(mutate(13, 0x12)), std::invalid_argument);      // DGRAM
    CHECK_THROWS_AS(pp::parse(mutate(13, 0x00)), std::invalid_argument);      // PROXY + UNSPEC
    CHECK_THROWS_AS(pp::parse(mutate(15, 0x08)), std::invalid_argument);      // IPv4 block short
    // A TLV that claims more than the header holds.
    Bytes overrun = hex(std::string(sig) + "21 11 0010 C0A80001 C0A8000B DC04 01BB E1 0009 61");
    CHECK_THROWS_AS(pp::parse(overrun), std::invalid_argument);
    // A TLV header cut short.
    Bytes cut = hex(std::string(sig) + "21 11 000E C0A80001 C0A8000B DC04 01BB E1 00");
    CHECK_THROWS_AS(pp::parse(cut), std::invalid_argument);
    // A length beyond the caller's bound is refused before waiting for it.
    Bytes huge = hex(std::string(sig) + "21 11 FFFF");
    CHECK_THROWS_AS(pp::parse(huge, 4096), std::invalid_argument);
}

// ---- interop: a real haproxy ------------------------------------------

namespace {

// Runs haproxy in the foreground; stops it by PID.
struct Haproxy {
    pid_t pid = -1;
    explicit Haproxy(const std::filesystem::path& config, const std::filesystem::path& log) {
        std::fflush(nullptr);
        pid = fork();
        if (pid == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
            if (fd >= 0) dup2(fd, 1), dup2(fd, 2);
            execlp("haproxy", "haproxy", "-db", "-f", config.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
    }
    ~Haproxy() {
        if (pid <= 0) return;
        kill(pid, SIGTERM);
        for (int i = 0; i < 200; ++i) {
            if (waitpid(pid, nullptr, WNOHANG) == pid) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        kill(pid, SIGKILL);
        waitpid(pid, nullptr, 0);
    }
};

}  // namespace

// Without haproxy: fails, unless AUTHCHAIN_TEST_SKIP_MISSING=1 (then skipped, counted).
TEST_CASE("proxy v2: haproxy (accept-proxy) accepts our header and forwards its source" *
          doctest::skip(test::skip_missing({"haproxy"}))) {
    test::require_tools({"haproxy"});
    test::TempDir dir;
    // No port guessed: haproxy's front is a Unix socket, the backend ours on port 0.
    auto front = dir / "front.sock";
    std::string got = test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::string> {
        // The backend haproxy forwards to; it announces the client with PROXY v1.
        asio::ip::tcp::acceptor backend(ex, ep("127.0.0.1", 0));
        std::uint16_t back = backend.local_endpoint().port();
        test::write_file(dir / "haproxy.cfg",
                         "global\n"
                         "  log stdout format raw local0 info\n"
                         "defaults\n"
                         "  mode tcp\n"
                         "  log global\n"
                         "  option tcplog\n"
                         "  timeout connect 5s\n"
                         "  timeout client 10s\n"
                         "  timeout server 10s\n"
                         "frontend fe\n"
                         "  bind unix@" + front.string() + " accept-proxy\n"
                         "  default_backend be\n"
                         "backend be\n"
                         "  server s1 127.0.0.1:" + std::to_string(back) + " send-proxy\n");
        Haproxy haproxy(dir / "haproxy.cfg", dir / "haproxy.log");
        if (haproxy.pid <= 0) throw std::runtime_error("cannot start haproxy");
        // Wait (bounded) until haproxy listens.
        asio::local::stream_protocol::socket client(ex);
        for (int i = 0;; ++i) {
            try {
                co_await client.async_connect(asio::local::stream_protocol::endpoint(front.string()),
                                              asio::use_awaitable);
                break;
            } catch (const std::system_error&) {
                if (i > 500) throw;
            }
            client = asio::local::stream_protocol::socket(ex);
            asio::steady_timer t(ex, std::chrono::milliseconds(20));
            co_await t.async_wait(asio::use_awaitable);
        }
        Credentials c;
        c.prove("t", &Credentials::channel_id, Bytes{1, 2, 3, 4}, "channel_id");
        c.prove("t", &Credentials::key_fingerprint, std::string("SHA256:interop"), "key_fingerprint");
        c.prove("t", &Credentials::user, std::string("alice"), "user");
        Bytes wire = pp::encode_for(ep("203.0.113.7", 56324), ep("198.51.100.9", 443), c);
        std::string hello = "hello through haproxy\n";
        wire.insert(wire.end(), hello.begin(), hello.end());
        co_await asio::async_write(client, asio::buffer(wire), asio::use_awaitable);

        asio::ip::tcp::socket peer = co_await backend.async_accept(asio::use_awaitable);
        asio::streambuf buf;
        co_await asio::async_read_until(peer, buf, hello, asio::use_awaitable);
        co_return std::string(asio::buffers_begin(buf.data()), asio::buffers_end(buf.data()));
    });
    // haproxy believed our header: it announces our invented source.
    CHECK(got.rfind("PROXY TCP4 203.0.113.7 198.51.100.9 56324 443\r\n", 0) == 0);
    CHECK(got.find("hello through haproxy\n") != std::string::npos);
}

TEST_CASE("proxy v2: a psk identity travels as TLV 0xE3") {
    Credentials c;
    c.prove("psk", &Credentials::psk_id, std::string("2026"), "psk_id");
    auto tlvs = pp::identity_tlvs(c);
    CHECK(tlvs == std::vector<pp::TlvEntry>{{0xE3, "2026"}});
}
TEST_CASE("proxy_v2: a TLS session carries PP2_TYPE_SSL as HAProxy does, and the certificate TLVs") {
    Credentials c;
    c.prove("tls", &Credentials::cert_subject, std::string("CN=alice,O=Example"), "cert_subject");
    c.prove("tls", &Credentials::cert_common_name, std::string("alice"), "cert_common_name");
    c.prove("tls", &Credentials::cert_fingerprint, std::string("sha256//AAAA"), "cert_fingerprint");
    c.prove("tls", &Credentials::cert_serial, std::string("0A1B"), "cert_serial");
    c.prove("tls", &Credentials::tls_suite, std::string("TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"), "tls_suite");
    auto tlvs = proxy_v2::identity_tlvs(c);
    auto find = [&](proxy_v2::Tlv t) {
        for (const auto& e : tlvs)
            if (e.type == static_cast<std::uint8_t>(t)) return std::optional<std::string>(e.value);
        return std::optional<std::string>();
    };
    const std::string expected = std::string("\x07\0\0\0\0", 5) + std::string("\x21\0\x07TLSv1.2", 10) +
                                 std::string("\x22\0\x05" "alice", 8) +
                                 std::string("\x23\0\x1d" "ECDHE-ECDSA-AES256-GCM-SHA384", 32);
    CHECK(find(proxy_v2::Tlv::ssl) == expected);
    CHECK(find(proxy_v2::Tlv::cert_fingerprint) == std::string("sha256//AAAA"));
    CHECK(find(proxy_v2::Tlv::cert_serial) == std::string("0A1B"));
    CHECK(find(proxy_v2::Tlv::cert_subject) == std::string("CN=alice,O=Example"));
    // Without a client certificate: SSL only, no CN.
    Credentials anonymous;
    anonymous.prove("tls", &Credentials::tls_suite, std::string("TLSv1.2 X"), "tls_suite");
    auto only = proxy_v2::identity_tlvs(anonymous);
    REQUIRE(only.size() == 1);
    CHECK(only[0].value == std::string("\x01\0\0\0\0", 5) + std::string("\x21\0\x07TLSv1.2", 10) +
                               std::string("\x23\0\x01X", 4));
}
