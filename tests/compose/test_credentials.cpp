#include <doctest/doctest.h>

#include <authchain/compose/credentials.hpp>
#include <authchain/compose/error.hpp>

using namespace authchain;

TEST_CASE("a fact is proven once and logged with its layer") {
    Credentials c;
    CHECK_FALSE(c.user);
    CHECK_FALSE(c.user == std::string("alice"));
    c.prove("password", &Credentials::user, std::string("alice"), "user");
    CHECK(c.user == std::string("alice"));
    CHECK(*c.user == "alice");
    REQUIRE(c.log().size() == 1);
    CHECK(c.log()[0] == Proof{"password", "user"});
}

TEST_CASE("overwriting a proven fact is an error and leaves it unchanged") {
    Credentials c;
    c.prove("password", &Credentials::user, std::string("alice"), "user");
    CHECK_THROWS_AS(c.prove("evil", &Credentials::user, std::string("root"), "user"), CredentialConflict);
    CHECK(*c.user == "alice");
    CHECK(c.log().size() == 1);
}

TEST_CASE("extra facts follow the same rules") {
    Credentials c;
    c.prove_extra("mine", "team", "ops");
    CHECK(c.extra().at("team") == "ops");
    CHECK_THROWS_AS(c.prove_extra("other", "team", "dev"), CredentialConflict);
    CHECK(c.extra().at("team") == "ops");
}

TEST_CASE("layers() lists each layer once, in order; identity() summarises") {
    Credentials c;
    CHECK(c.identity() == "anonymous");
    c.note("ip_filter", "allowed");
    c.prove("public_key", &Credentials::key_fingerprint, std::string("SHA256:abc"), "key_fingerprint");
    c.prove("public_key", &Credentials::key_comment, std::string("me@host"), "key_comment");
    c.prove("password", &Credentials::user, std::string("bob"), "user");
    CHECK(c.layers() == std::vector<std::string>{"ip_filter", "public_key", "password"});
    CHECK(c.identity() == "key SHA256:abc comment me@host user bob");
}

TEST_CASE("copies carry the facts; a copy cannot be used to overwrite") {
    Credentials a;
    a.prove("psk", &Credentials::psk_id, std::string("client-1"), "psk_id");
    Credentials b = a;
    CHECK(b.psk_id == std::string("client-1"));
    CHECK_THROWS_AS(b.prove("x", &Credentials::psk_id, std::string("other"), "psk_id"), CredentialConflict);
}

TEST_CASE("deny reasons have stable wire values and names") {
    CHECK(static_cast<int>(DenyReason::busy) == 1);
    CHECK(static_cast<int>(DenyReason::timeout) == 5);
    CHECK(deny_reason_from_byte(3) == DenyReason::denied);
    CHECK_FALSE(deny_reason_from_byte(0));
    CHECK(deny_reason_from_byte(6) == DenyReason::internal_error);
    CHECK_FALSE(deny_reason_from_byte(7));
    CHECK(to_string(DenyReason::host_blocked) == "host blocked");
    AuthenticationError e(DenyReason::denied, "key not listed");
    CHECK(e.reason() == DenyReason::denied);
    CHECK(e.detail() == "key not listed");
    CHECK(std::string(e.what()) == "denied: key not listed");
}

TEST_CASE("a copy's proof log is its own; a moved-from Credentials is empty") {
    Credentials a;
    a.note("ip_filter", "allowed");
    Credentials b = a;
    b.note("check", "passed");
    CHECK(a.layers() == std::vector<std::string>{"ip_filter"});
    CHECK(b.layers() == std::vector<std::string>{"ip_filter", "check"});
    CHECK(a.shared_log() != b.shared_log());
    auto shared = a.shared_log();
    Credentials c = std::move(a);
    CHECK(c.shared_log() == shared);  // the same log moved on
    c.note("more", "x");
    CHECK(shared->layers() == std::vector<std::string>{"ip_filter", "more"});
    b = c;  // copy-assign: b keeps its own log object, with c's entries
    CHECK(b.shared_log() != c.shared_log());
    CHECK(b.log() == c.log());
}

TEST_CASE("the one-call prove names the fact after its field and converts the value") {
    Credentials c;
    c.prove("my_layer", &Credentials::user, "alice");
    c.prove("my_layer", &Credentials::psk_id, std::string_view("client-7"));
    c.prove("my_layer", &Credentials::cert_subject, std::string("CN=alice"));
    CHECK(c.user == std::string("alice"));
    CHECK(c.psk_id == std::string("client-7"));
    REQUIRE(c.log().size() == 3);
    CHECK(c.log()[0] == Proof{"my_layer", "user"});
    CHECK(c.log()[1] == Proof{"my_layer", "psk_id"});
    CHECK(c.log()[2] == Proof{"my_layer", "cert_subject"});
    CHECK(c.identity().find("user alice") != std::string::npos);
}

TEST_CASE("the one-call prove refuses to overwrite, as the named form") {
    Credentials c;
    c.prove("password", &Credentials::user, "alice");
    CHECK_THROWS_AS(c.prove("evil", &Credentials::user, "root"), CredentialConflict);
    CHECK(*c.user == "alice");
    CHECK(c.log().size() == 1);
}

TEST_CASE("the one-call prove names facts of every type") {
    Credentials c;
    c.prove("t", &Credentials::peer, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
    c.prove("t", &Credentials::channel_id, Bytes{1, 2, 3});
    c.prove("t", &Credentials::key_restrictions, KeyRestrictions{.restrict = true});
    REQUIRE(c.log().size() == 3);
    CHECK(c.log()[0].fact == "peer");
    CHECK(c.log()[1].fact == "channel_id");
    CHECK(c.log()[2].fact == "key_restrictions");
}

TEST_CASE("restore proves again, under the same layers, what another Credentials logged from an entry on") {
    Credentials full;
    full.prove("transport", &Credentials::peer, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 9));
    full.prove("secure_channel", &Credentials::channel_id, Bytes{1, 2, 3});
    const std::size_t first = full.log().size();
    full.prove("public_key", &Credentials::key_fingerprint, "SHA256:abc");
    full.prove("public_key", &Credentials::key_restrictions, KeyRestrictions{.restrict = true});
    full.prove("tls", &Credentials::cert_san, std::vector<std::string>{"DNS:a", "URI:b"});
    full.note("public_key", "certificate accepted");
    full.prove_extra("lambda", "team", "ops");

    Credentials resumed;
    resumed.prove("secure_channel", &Credentials::channel_id, Bytes{7, 7});
    resumed.restore(full, first);
    CHECK(resumed.channel_id == Bytes{7, 7});  // before `first`: not restored
    CHECK_FALSE(resumed.peer);
    CHECK(resumed.key_fingerprint == std::string("SHA256:abc"));
    CHECK(resumed.key_restrictions->restrict);
    CHECK(resumed.cert_san == std::vector<std::string>{"DNS:a", "URI:b"});
    CHECK(resumed.extra().at("team") == "ops");
    const std::vector<Proof> expected{{"secure_channel", "channel_id"}, {"public_key", "key_fingerprint"},
                                      {"public_key", "key_restrictions"}, {"tls", "cert_san"},
                                      {"public_key", "certificate accepted"}, {"lambda", "team"}};
    CHECK(resumed.log() == expected);

    // A fact already known here is a conflict, as any second proof is.
    Credentials clash;
    clash.prove("other", &Credentials::key_fingerprint, "SHA256:zzz");
    CHECK_THROWS_AS(clash.restore(full, first), CredentialConflict);
    CHECK(*clash.key_fingerprint == "SHA256:zzz");
}
