#include <doctest/doctest.h>

#include <string>

#include <authchain/auth/openssh/patterns.hpp>
#include "tests/support/address.hpp"

using namespace authchain::openssh;

using authchain::test::ip;

TEST_CASE("match_pattern: wildcards as OpenSSH") {
    CHECK(match_pattern("host.example.com", "*.example.com"));
    CHECK(match_pattern("example.com", "example.com"));
    CHECK_FALSE(match_pattern("example.com", "*.example.com"));
    CHECK(match_pattern("web1", "web?"));
    CHECK_FALSE(match_pattern("web12", "web?"));
    CHECK(match_pattern("", "*"));
    CHECK(match_pattern("", ""));
    CHECK_FALSE(match_pattern("a", ""));
    CHECK(match_pattern("abcabd", "*abd"));
    CHECK(match_pattern("aXbXc", "a*b*c"));
    CHECK_FALSE(match_pattern("aXbXd", "a*b*c"));
    CHECK(match_pattern("10.1.2.3", "10.1.*"));
    CHECK_FALSE(match_pattern("Host", "host"));  // case-sensitive by itself
    // No exponential backtracking on adversarial input.
    std::string text(2000, 'a');
    std::string pattern;
    for (int i = 0; i < 200; ++i) pattern += "*a";
    pattern += "b";
    CHECK_FALSE(match_pattern(text, pattern));
}

TEST_CASE("match_pattern_list: a negated match refuses") {
    CHECK(match_pattern_list("a.example.com", "*.example.com,other", false) == ListMatch::positive);
    CHECK(match_pattern_list("bad.example.com", "*.example.com,!bad.example.com", false) == ListMatch::negated);
    CHECK(match_pattern_list("bad.example.com", "!bad.example.com,*.example.com", false) == ListMatch::negated);
    CHECK(match_pattern_list("x", "a,b", false) == ListMatch::none);
    CHECK(match_pattern_list("x", "!y", false) == ListMatch::none);
    CHECK(match_pattern_list("", "", false) == ListMatch::none);
    CHECK(match_pattern_list("", "a,,b", false) == ListMatch::positive);
    CHECK(match_pattern_list("x", std::string(1100, '*'), false) == ListMatch::none);
    CHECK(match_hostname("HOST.Example.COM", "host.EXAMPLE.com") == ListMatch::positive);
    CHECK(match_pattern_list("host", "HOST", false) == ListMatch::none);
}

TEST_CASE("address lists: CIDR, wildcards, negation, errors") {
    CHECK(match_address_list(ip("10.1.2.3"), "10.0.0.0/8") == AddressListMatch::positive);
    CHECK(match_address_list(ip("11.1.2.3"), "10.0.0.0/8") == AddressListMatch::none);
    CHECK(match_address_list(ip("10.1.2.3"), "10.0.0.0/8,!10.1.2.0/24") == AddressListMatch::negated);
    CHECK(match_address_list(ip("10.1.2.3"), "10.1.2.*") == AddressListMatch::positive);
    CHECK(match_address_list(ip("::ffff:10.1.2.3"), "10.0.0.0/8") == AddressListMatch::positive);
    CHECK(match_address_list(ip("2001:db8::1"), "2001:db8::/32") == AddressListMatch::positive);
    CHECK(match_address_list(ip("10.1.2.3"), "10.0.0.1/8") == AddressListMatch::invalid);
    CHECK(match_address_list(ip("10.1.2.3"), "10.0.0.0/33") == AddressListMatch::invalid);
    CHECK(match_address_list(ip("10.1.2.3"), "10.0.0.0/8,") == AddressListMatch::invalid);
    CHECK(address_list_error("10.0.0.0/8,192.168.*,!10.9.0.0/16") == std::nullopt);
    CHECK(address_list_error("10.0.0.1/8").has_value());
    CHECK(address_list_error("").has_value());
}

TEST_CASE("match_from: OpenSSH match_host_and_ip without DNS") {
    CHECK(match_from(ip("10.1.2.3"), "10.0.0.0/8"));
    CHECK(match_from(ip("10.1.2.3"), "10.1.2.3"));
    CHECK(match_from(ip("10.1.2.3"), "*.example.com,10.1.2.?"));
    CHECK_FALSE(match_from(ip("10.1.2.3"), "*.example.com"));  // names are not resolved
    CHECK_FALSE(match_from(ip("10.1.2.3"), "10.0.0.0/8,!10.1.2.3"));
    CHECK_FALSE(match_from(ip("10.1.2.3"), "!10.1.2.3,*"));
    CHECK_FALSE(match_from(ip("10.1.2.3"), "*,!10.1.0.0/16"));
    CHECK(match_from(ip("10.2.0.1"), "*,!10.1.0.0/16"));
    CHECK_FALSE(match_from(ip("10.1.2.3"), "10.0.0.1/8,10.1.2.3"));  // an invalid list never matches
    CHECK_FALSE(match_from(ip("10.1.2.3"), "!192.168.0.0/16"));     // a negation alone admits nobody
    CHECK(match_from(ip("::ffff:192.168.1.9"), "192.168.1.0/24"));
}
