#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <string>

#include <authchain/auth/openssh/authorized_keys.hpp>
#include "tests/auth/two_keys.hpp"
#include "tests/support/address.hpp"

using namespace authchain;
using namespace authchain::openssh;
using std::chrono::system_clock;

namespace {

using authchain::test::ip;
using authchain::test::key_a;
using authchain::test::key_b;

bool has_warning(const AuthorizedKeys& keys, const std::string& part) {
    for (const auto& w : keys.warnings)
        if (w.find(part) != std::string::npos) return true;
    return false;
}

}  // namespace

TEST_CASE("authorized_keys: plain lines, comments, blank lines") {
    std::string text = "# comment\n\n   \n" + key_a().to_line("alice@laptop") + "\n  " + key_b().to_line() + "\r\n";
    auto keys = parse_authorized_keys(text, "ak");
    REQUIRE(keys.entries.size() == 2);
    CHECK(keys.warnings.empty());
    CHECK(keys.entries[0].key == key_a());
    CHECK(keys.entries[0].comment == "alice@laptop");
    CHECK(keys.entries[0].source == "ak:4");
    CHECK(keys.entries[1].comment.empty());
    CHECK(keys.entries[1].restrictions == KeyRestrictions{});
    auto found = find_authorized_key(keys, key_b(), ip("127.0.0.1"), system_clock::now());
    REQUIRE(found);
    CHECK(found.entry == &keys.entries[1]);
}

TEST_CASE("authorized_keys: restrictions are recorded") {
    std::string text = R"(no-pty,permitopen="db:5432",permitopen="[::1]:80",command="echo \"hi\", there",NO-X11-Forwarding )" +
                       key_a().to_line("c") + "\n" + "restrict,pty " + key_b().to_line() + "\n";
    auto keys = parse_authorized_keys(text, "ak");
    REQUIRE(keys.entries.size() == 2);
    const auto& r = keys.entries[0].restrictions;
    CHECK_FALSE(r.restrict);
    CHECK(r.no == std::vector<std::string>{"X11-forwarding", "pty"});
    CHECK(r.permitopen == std::vector<std::string>{"db:5432", "[::1]:80"});
    REQUIRE(r.command);
    CHECK(*r.command == "echo \"hi\", there");
    CHECK(keys.entries[0].comment == "c");
    const auto& r2 = keys.entries[1].restrictions;
    CHECK(r2.restrict);
    CHECK(r2.no == std::vector<std::string>{"port-forwarding", "agent-forwarding", "X11-forwarding", "user-rc"});
}

TEST_CASE("authorized_keys: options it cannot honour skip the line with a warning") {
    for (std::string option : {"environment=\"A=b\"", "tunnel=\"1\"", "principals=\"x\"", "permitlisten=\"8080\"",
                               "frobnicate", "no-touch-required", "cert-authority=x"}) {
        CAPTURE(option);
        auto keys = parse_authorized_keys("\n" + option + " " + key_a().to_line() + "\n", "/home/u/ak");
        CHECK(keys.entries.empty());
        REQUIRE(keys.warnings.size() == 1);
        CHECK(keys.warnings[0].starts_with("/home/u/ak:2: "));
        CHECK(keys.warnings[0].find("skipped") != std::string::npos);
        // And so the key is refused, never treated as unrestricted.
        auto found = find_authorized_key(keys, key_a(), ip("127.0.0.1"), system_clock::now());
        CHECK_FALSE(found);
        CHECK(found.reason == "key not in authorized_keys");
    }
    auto keys = parse_authorized_keys("environment=\"A=b\" " + key_a().to_line() + "\n", "ak");
    CHECK(has_warning(keys, "\"environment\""));
}

TEST_CASE("authorized_keys: malformed lines are skipped with a warning") {
    std::string good = key_b().to_line();
    std::string b64 = good.substr(good.find(' ') + 1);
    std::string text =
        "ssh-ed25519 AAAA!!notbase64\n"                 // 1 bad base64
        "ssh-rsa " + b64 + "\n"                        // 2 type mismatch
        "command=\"unterminated " + good + "\n"        // 3 open quote
        "from=\"10.0.0.1/8\" " + good + "\n"           // 4 inconsistent CIDR
        "expiry-time=\"2020\" " + good + "\n"          // 5 bad time
        "permitopen=\"nohost\" " + good + "\n"         // 6 bad permitopen
        "command=\"a\",command=\"b\" " + good + "\n"   // 7 two commands
        "no-pty,\n"                                    // 8 no key
        "ssh-ed25519\n"                                // 9 no base64
        "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQ=\n"  // 10 unsupported type
        "no-pty, " + good + "\n"                       // 11 dangling comma
        + std::string(20000, 'x') + "\n";              // 12 too long
    auto keys = parse_authorized_keys(text, "ak");
    CHECK(keys.entries.empty());
    CHECK(keys.warnings.size() == 12);
    for (int line = 1; line <= 12; ++line) CHECK(has_warning(keys, "ak:" + std::to_string(line) + ":"));
}

TEST_CASE("authorized_keys: from= admits and refuses") {
    std::string text = "from=\"10.0.0.0/8,!10.6.6.6\" " + key_a().to_line() + "\n";
    auto keys = parse_authorized_keys(text, "ak");
    REQUIRE(keys.entries.size() == 1);
    auto now = system_clock::now();
    CHECK(find_authorized_key(keys, key_a(), ip("10.1.2.3"), now));
    CHECK(find_authorized_key(keys, key_a(), ip("::ffff:10.1.2.3"), now));
    auto outside = find_authorized_key(keys, key_a(), ip("192.168.1.1"), now);
    CHECK_FALSE(outside);
    CHECK(outside.reason == "from=\"10.0.0.0/8,!10.6.6.6\" does not match 192.168.1.1 (ak:1)");
    auto negated = find_authorized_key(keys, key_a(), ip("10.6.6.6"), now);
    CHECK_FALSE(negated);
    CHECK(negated.reason.find("does not match 10.6.6.6") != std::string::npos);
    // A later line for the same key may still admit it, as OpenSSH.
    keys = parse_authorized_keys(text + "from=\"192.168.*\" " + key_a().to_line("second") + "\n", "ak");
    auto second = find_authorized_key(keys, key_a(), ip("192.168.1.1"), now);
    REQUIRE(second);
    CHECK(second.entry->comment == "second");
}

TEST_CASE("authorized_keys: expiry-time") {
    auto keys = parse_authorized_keys("expiry-time=\"20200101\" " + key_a().to_line() + "\n" +
                                          "expiry-time=\"20991231235959Z\" " + key_b().to_line() + "\n",
                                      "ak");
    REQUIRE(keys.entries.size() == 2);
    auto now = system_clock::now();
    auto expired = find_authorized_key(keys, key_a(), ip("127.0.0.1"), now);
    CHECK_FALSE(expired);
    CHECK(expired.reason == "key expired on 20200101 (ak:1)");
    CHECK(find_authorized_key(keys, key_b(), ip("127.0.0.1"), now));
    auto utc = parse_expiry_time("20200101000000Z");
    REQUIRE(utc);
    CHECK(system_clock::to_time_t(*utc) == 1577836800);
    CHECK(parse_expiry_time("202001010000UTC").has_value());
    CHECK(parse_expiry_time("20201301") == std::nullopt);
    CHECK(parse_expiry_time("2020010") == std::nullopt);
    CHECK(parse_expiry_time("2020O101") == std::nullopt);
    // Beyond what system_clock holds: the far future, not an overflow.
    CHECK(parse_expiry_time("58930314") == system_clock::time_point::max());
}

TEST_CASE("authorized_keys: unknown key and entry bound") {
    auto keys = parse_authorized_keys(key_a().to_line() + "\n", "ak");
    auto found = find_authorized_key(keys, key_b(), ip("127.0.0.1"), system_clock::now());
    CHECK_FALSE(found);
    CHECK(found.reason == "key not in authorized_keys");

    std::string many;
    std::string line = key_a().to_line() + "\n";
    for (std::size_t i = 0; i < max_authorized_keys_entries + 2; ++i) many += line;
    keys = parse_authorized_keys(many, "ak");
    CHECK(keys.entries.size() == max_authorized_keys_entries);
    CHECK(has_warning(keys, "the rest of the file is ignored"));
}

namespace {

// Sets TZ for its lifetime, then restores the previous value (or its absence).
class ScopedTz {
public:
    explicit ScopedTz(const char* value) {
        if (const char* old = std::getenv("TZ")) old_ = old;
        if (value)
            ::setenv("TZ", value, 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    ~ScopedTz() {
        if (old_)
            ::setenv("TZ", old_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    ScopedTz(const ScopedTz&) = delete;
    ScopedTz& operator=(const ScopedTz&) = delete;

private:
    std::optional<std::string> old_;
};

// "YYYYMMDDHHMM" of `t` in UTC.
std::string utc_stamp(system_clock::time_point t) {
    std::time_t tt = system_clock::to_time_t(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%d%H%M", &tm);
    return text;
}

}  // namespace

TEST_CASE("authorized_keys: expiry-time without Z is UTC, whatever TZ says") {
    // POSIX TZ strings, so no tzdata is needed: UTC+14, UTC-12, UTC+5:30, unset.
    const char* zones[] = {nullptr, "UTC0", "XST-14", "YST12", "IST-5:30"};
    auto now = system_clock::now();
    // Expires in 6 hours, UTC: read as local time in UTC+14 it would already be past.
    const std::string soon = utc_stamp(now + std::chrono::hours(6));
    // Expired 6 hours ago, UTC: read as local time in UTC-12 it would still be ahead.
    const std::string past = utc_stamp(now - std::chrono::hours(6));
    auto keys = parse_authorized_keys("expiry-time=\"" + soon + "\" " + key_a().to_line() + "\n" +
                                          "expiry-time=\"" + past + "\" " + key_b().to_line() + "\n",
                                      "ak");
    for (const char* zone : zones) {
        CAPTURE((zone ? zone : "(unset)"));
        ScopedTz tz(zone);
        CHECK(system_clock::to_time_t(*parse_expiry_time("20300101")) == 1893456000);
        CHECK(parse_expiry_time("203001010000") == parse_expiry_time("20300101000000Z"));
        // Parsed under this TZ, matched now: the same verdict everywhere.
        auto here = parse_authorized_keys("expiry-time=\"" + soon + "\" " + key_a().to_line() + "\n" +
                                              "expiry-time=\"" + past + "\" " + key_b().to_line() + "\n",
                                          "ak");
        CHECK(find_authorized_key(here, key_a(), ip("127.0.0.1"), now));
        CHECK_FALSE(find_authorized_key(here, key_b(), ip("127.0.0.1"), now));
        REQUIRE(here.entries.size() == 2);
        CHECK(here.entries[0].expiry == keys.entries[0].expiry);
    }
}

TEST_CASE("authorized_keys: a cert-authority line names a CA, never a user key; principals= goes with it") {
    auto keys = parse_authorized_keys("cert-authority,principals=\"ops,deploy\",from=\"127.0.0.0/8\" " +
                                          key_a().to_line() + " ca\n",
                                      "ak");
    REQUIRE(keys.entries.size() == 1);
    CHECK(keys.warnings.empty());
    const auto& e = keys.entries[0];
    CHECK(e.cert_authority);
    REQUIRE(e.principals);
    CHECK(*e.principals == std::vector<std::string>{"ops", "deploy"});
    // The CA key itself does not log in as a plain key.
    CHECK_FALSE(find_authorized_key(keys, key_a(), ip("127.0.0.1"), system_clock::now()));
    CHECK(find_certificate_authority(keys, key_a(), ip("127.0.0.1"), system_clock::now()));
    // from= still applies to the CA line.
    auto far = find_certificate_authority(keys, key_a(), ip("192.0.2.1"), system_clock::now());
    CHECK_FALSE(far);
    CHECK(far.reason.find("from=") != std::string::npos);
    // A plain line is not a CA.
    auto plain = parse_authorized_keys(key_a().to_line() + "\n", "ak");
    CHECK_FALSE(find_certificate_authority(plain, key_a(), ip("127.0.0.1"), system_clock::now()));
    // principals= with an empty name is skipped.
    auto empty = parse_authorized_keys("cert-authority,principals=\"a,,b\" " + key_a().to_line() + "\n", "ak");
    CHECK(empty.entries.empty());
}
