// authorized_keys options a gate must enforce (issue 14 finding 2): a gate
// forwards, so keys that may not forward, that name a command, or whose
// permitopen does not admit the backend are refused (fail closed). The
// detail names the option; the peer only sees denied.
#include <doctest/doctest.h>

#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;
using namespace authchain::pk_test;

namespace {

// The fixture with `options` in front of the user's key line.
Result with_options(Fixture& f, const std::string& options, PublicKeyServerOptions server) {
    test::write_file(f.authorized_keys, options + " " + f.user.public_key().to_line() + "\n", 0600);
    return handshake(public_key(server), f.client());
}
Result with_options(Fixture& f, const std::string& options) {
    return with_options(f, options, f.server_options());
}

// The server refused the key for `why` and the client heard "the server refused our key".
void check_key_refused(const Result& r, const std::string& why) {
    CHECK_FALSE(r.server.credentials);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK_MESSAGE(r.server.detail_has(why), (r.server.error ? r.server.error->detail() : r.server.failure));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("the server refused our key"));
}

}  // namespace

TEST_CASE("public_key: restrict without port-forwarding is refused") {
    Fixture f;
    auto r = with_options(f, "restrict");
    check_key_refused(r, "\"restrict\" without \"port-forwarding\"");
    CHECK(r.server.detail_has(f.user.public_key().fingerprint()));
    CHECK(r.server.detail_has("authorized_keys:1"));

    // port-forwarding before restrict is undone by it, as OpenSSH reads options in order.
    check_key_refused(with_options(f, "port-forwarding,restrict"), "forbids forwarding");

    auto allowed = with_options(f, "restrict,port-forwarding");
    REQUIRE(allowed.server.credentials);
    CHECK(allowed.server.credentials->key_restrictions->restrict);
    CHECK(allowed.client.credentials);
}

TEST_CASE("public_key: no-port-forwarding is refused") {
    Fixture f;
    check_key_refused(with_options(f, "no-port-forwarding"), "\"no-port-forwarding\" forbids forwarding");
    check_key_refused(with_options(f, "no-pty,no-port-forwarding"), "forbids forwarding");
}

TEST_CASE("public_key: options about what a gate does not offer are only recorded") {
    Fixture f;
    auto r = with_options(f, "no-pty,no-agent-forwarding,no-X11-forwarding,no-user-rc");
    REQUIRE(r.server.credentials);
    CHECK(r.server.credentials->key_restrictions->no.size() == 4);
}

TEST_CASE("public_key: command= is refused unless ignore_command") {
    Fixture f;
    auto r = with_options(f, "command=\"/usr/bin/uptime\"");
    check_key_refused(r, "command=\"/usr/bin/uptime\": a gate cannot run a command");

    auto options = f.server_options();
    options.ignore_command = true;
    auto ignored = with_options(f, "command=\"/usr/bin/uptime\"", options);
    REQUIRE(ignored.server.credentials);
    CHECK(ignored.server.credentials->key_restrictions->command == std::optional<std::string>("/usr/bin/uptime"));

    // ignore_command does not lift the forwarding rule.
    check_key_refused(with_options(f, "restrict,command=\"uptime\"", options), "forbids forwarding");
}

TEST_CASE("public_key: permitopen is refused unless it names the backend") {
    Fixture f;
    // Not told the backend: fail closed.
    check_key_refused(with_options(f, "permitopen=\"db.internal:5432\""), "not told its backend");

    auto options = f.server_options();
    options.backend = "db.internal:5432";
    auto admitted = with_options(f, "permitopen=\"cache:6379\",permitopen=\"DB.internal:5432\"", options);
    REQUIRE(admitted.server.credentials);
    CHECK(admitted.server.credentials->key_restrictions->permitopen.size() == 2);
    CHECK(with_options(f, "permitopen=\"db.internal:*\"", options).server.credentials);

    check_key_refused(with_options(f, "permitopen=\"db.internal:5433\"", options),
                  "permitopen= does not admit the backend db.internal:5432");
    check_key_refused(with_options(f, "permitopen=\"other:5432\"", options), "does not admit");

    options.backend = "[::1]:6379";
    CHECK(with_options(f, "permitopen=\"[::1]:6379\"", options).server.credentials);
    check_key_refused(with_options(f, "permitopen=\"[::1]:6380\"", options), "does not admit");

    // A key without permitopen may reach the backend, told or not.
    CHECK(with_options(f, "no-pty", options).server.credentials);
}

TEST_CASE("public_key: a key refused for its options costs no signature verify") {
    Fixture f;
    test::write_file(f.authorized_keys, "restrict " + f.user.public_key().to_line() + "\n", 0600);
    auto scripted = scripted_client([&](const KeyProof& s1) {
        return encode_c1({f.user.public_key().blob(), f.user.sign(user_signed_data(channel_a, s1.key_blob))});
    });
    VerifyCounter verifies;
    auto r = handshake(f.server(), scripted);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("refused before verifying its signature"));
    CHECK(verifies.count() == 0);
}
