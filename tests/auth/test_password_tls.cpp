// password over TLS: the P1 proof is bound to the TLS exporter value (the
// stream's channel id), so a proof moved to another TLS connection fails.
#include <doctest/doctest.h>

#include "tests/auth/password_fixture.hpp"
#include "tests/auth/tls_fixture.hpp"
#include "tests/transport/channel_harness.hpp"

using namespace authchain;
using namespace authchain::tls_test;

TEST_CASE("tls: a password proof moved to another TLS connection fails") {
    TlsFixture f;
    pw_test::PwFixture users;
    // The attacker holds a server certificate of the same CA (another server
    // of the organisation): the client's TLS layer accepts it, so the client's
    // credentials know cert_fingerprint and the client sends P1 to it. The
    // attacker relays the password messages between its TLS connection with
    // the client and its own with the server.
    ca::Issued attacker_cert = ca::issue(f.authority, server_leaf());
    TlsServerOptions attacker_server{.credentials = fixed(credentials(&attacker_cert, {&f.authority})),
                                     .client_certificate = ClientCertificate::none};
    const Authenticator server = f.server(ClientCertificate::none) | users.server();
    const Authenticator client_chain =
        f.client() | client::password(pw_test::client_options("alice", "correct horse"));
    const Authenticator attacker_to_client = tls(attacker_server);
    const Authenticator attacker_to_server = client::tls(f.client_options(&attacker_cert));

    std::uint64_t before = userdb::password_verifications();
    auto r = test::run([&](asio::any_io_executor ex) -> asio::awaitable<pk_test::Result> {
        auto [c, a1] = make_pipe(ex);
        auto [a2, s] = make_pipe(ex);
        auto srv = test::channel_harness::spawn(ex, pk_test::side(server, std::move(s)));
        auto cli = test::channel_harness::spawn(ex, pk_test::side(client_chain, std::move(c)));
        Session left = co_await attacker_to_client(start_session(std::move(a1)));
        Session right = co_await attacker_to_server(start_session(std::move(a2)));
        auto up = test::channel_harness::spawn(ex, relay_one_way(left.stream, right.stream));
        auto down = test::channel_harness::spawn(ex, relay_one_way(right.stream, left.stream));
        pk_test::Side server_side = co_await test::channel_harness::result(srv);
        pk_test::Side client_side = co_await test::channel_harness::result(cli);
        left.stream.close();
        right.stream.close();
        co_await test::channel_harness::wait(up);
        co_await test::channel_harness::wait(down);
        co_return pk_test::Result{std::move(server_side), std::move(client_side)};
    });
    // The server refuses the moved P1 before any hashing; nobody is proven.
    CHECK_FALSE(r.server.credentials);
    CHECK_FALSE(r.client.credentials);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("P1 was made for another channel"));
    CHECK(r.server.detail_has("user \"alice\""));
    CHECK(userdb::password_verifications() == before);

    // Without the relay, the same chains succeed over one TLS connection.
    auto direct = handshake(server, client_chain);
    REQUIRE_MESSAGE(direct.server.credentials, direct.server.failure,
                    (direct.server.error ? direct.server.error->detail() : ""));
    REQUIRE_MESSAGE(direct.client.credentials, direct.client.failure,
                    (direct.client.error ? direct.client.error->detail() : ""));
    CHECK(direct.server.credentials->user == std::string("alice"));
    CHECK(direct.server.credentials->layers() == std::vector<std::string>{"transport", "tls", "password"});
    CHECK(direct.client.credentials->cert_fingerprint.known());
    CHECK(userdb::password_verifications() == before + 1);
}
