#include <doctest/doctest.h>

#include <authchain/auth/ip_filter.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;

namespace {

// Runs `filter` on a pipe whose client end has address `from`; returns the
// refusal reason, or nullopt when it passed.
std::optional<DenyReason> from(const char* address, const Authenticator& filter) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::optional<DenyReason>> {
        PipeOptions o;
        o.client.endpoint = {asio::ip::make_address(address), 5555};
        auto [c, s] = make_pipe(ex, o);
        try {
            Session out = co_await filter(start_session(std::move(s)));
            CHECK(out.credentials.layers().back() == "ip_filter");
            co_return std::nullopt;
        } catch (const AuthenticationError& e) {
            co_return e.reason();
        }
    });
}

}  // namespace

TEST_CASE("cidr parsing and matching") {
    CHECK(Cidr::parse("10.0.0.0/8").contains(asio::ip::make_address("10.200.1.1")));
    CHECK_FALSE(Cidr::parse("10.0.0.0/8").contains(asio::ip::make_address("11.0.0.1")));
    CHECK(Cidr::parse("192.168.1.7").contains(asio::ip::make_address("192.168.1.7")));
    CHECK_FALSE(Cidr::parse("192.168.1.7").contains(asio::ip::make_address("192.168.1.8")));
    CHECK(Cidr::parse("0.0.0.0/0").contains(asio::ip::make_address("8.8.8.8")));
    CHECK_FALSE(Cidr::parse("0.0.0.0/0").contains(asio::ip::make_address("::1")));
    CHECK(Cidr::parse("2001:db8::/32").contains(asio::ip::make_address("2001:db8:1::5")));
    CHECK_FALSE(Cidr::parse("2001:db8::/32").contains(asio::ip::make_address("2001:db9::5")));
    CHECK(Cidr::parse("10.1.2.0/23").contains(asio::ip::make_address("10.1.3.255")));
    CHECK_FALSE(Cidr::parse("10.1.2.0/23").contains(asio::ip::make_address("10.1.4.0")));
    // IPv4-mapped forms are IPv4 on both sides.
    CHECK(Cidr::parse("10.0.0.0/8").contains(asio::ip::make_address("::ffff:10.9.9.9")));
    CHECK(Cidr::parse("::ffff:10.0.0.0/104").to_string() == "10.0.0.0/8");
    CHECK(Cidr::parse("::ffff:10.0.0.0/104").contains(asio::ip::make_address("10.3.3.3")));
}

TEST_CASE("a malformed CIDR is an error naming the bad text") {
    for (const char* bad : {"10.0.0.0/33", "10.0.0/8", "bogus", "10.0.0.0/", "10.0.0.0/8x", "::/129",
                            "10.0.0.1/8", "", "/8"}) {
        CAPTURE(bad);
        std::string quoted = std::string("\"") + bad + "\"";
        CHECK_THROWS_WITH_AS(Cidr::parse(bad), doctest::Contains(quoted.c_str()), std::invalid_argument);
    }
    CHECK_THROWS_WITH_AS(ip_filter({.allow = {"10.0.0.0/8", "300.1.1.1"}}), doctest::Contains("300.1.1.1"),
                         std::invalid_argument);
    CHECK_THROWS_WITH_AS(ip_filter({.deny = {"fe80::/200"}}), doctest::Contains("fe80::/200"),
                         std::invalid_argument);
}

TEST_CASE("ip_filter: allow list") {
    auto f = ip_filter({.allow = {"127.0.0.0/8", "10.0.0.0/8", "2001:db8::/32"}});
    CHECK_FALSE(from("127.0.0.1", f));
    CHECK_FALSE(from("10.1.1.1", f));
    CHECK_FALSE(from("2001:db8::1", f));
    CHECK(from("192.168.0.1", f) == DenyReason::host_blocked);
    CHECK(from("::1", f) == DenyReason::host_blocked);
}

TEST_CASE("ip_filter: deny wins over allow") {
    auto f = ip_filter({.allow = {"10.0.0.0/8"}, .deny = {"10.6.0.0/16"}});
    CHECK_FALSE(from("10.5.0.1", f));
    CHECK(from("10.6.0.1", f) == DenyReason::host_blocked);
}

TEST_CASE("ip_filter: an empty allow list allows all but the denied") {
    auto f = ip_filter({.deny = {"192.0.2.0/24", "2001:db8::/32"}});
    CHECK_FALSE(from("198.51.100.1", f));
    CHECK(from("192.0.2.44", f) == DenyReason::host_blocked);
    CHECK(from("2001:db8::44", f) == DenyReason::host_blocked);
}

TEST_CASE("ip_filter: IPv4-mapped IPv6 peers are matched as IPv4") {
    auto allow = ip_filter({.allow = {"127.0.0.0/8"}});
    CHECK_FALSE(from("::ffff:127.0.0.1", allow));
    CHECK(from("::ffff:8.8.8.8", allow) == DenyReason::host_blocked);
    auto deny = ip_filter({.deny = {"127.0.0.1"}});
    CHECK(from("::ffff:127.0.0.1", deny) == DenyReason::host_blocked);
}

TEST_CASE("ip_filter: the detail names the address, the wire reason stays coarse") {
    auto filter = ip_filter({.deny = {"10.6.0.0/16"}});
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeOptions o;
        o.client.endpoint = {asio::ip::make_address("10.6.1.2"), 1};
        auto [c, s] = make_pipe(ex, o);
        try {
            co_await filter(start_session(std::move(s)));
            FAIL("not refused");
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::host_blocked);
            CHECK(e.detail() == "10.6.1.2 is in deny 10.6.0.0/16");
        }
    });
}
