#include <doctest/doctest.h>

#include "tests/auth/tls_fixture.hpp"
#include "tests/transport/channel_harness.hpp"

using namespace authchain;
using namespace authchain::tls_test;

namespace {

bool has_san(const Credentials& c, const std::string& san) {
    return c.cert_san && std::find(c.cert_san->begin(), c.cert_san->end(), san) != c.cert_san->end();
}

}  // namespace

TEST_CASE("tls: mutual certificates prove both sides and the channel ids agree") {
    TlsFixture f;
    auto r = handshake(f.server(), f.client());
    REQUIRE_MESSAGE(r.server.credentials, r.server.failure, (r.server.error ? r.server.error->detail() : ""));
    REQUIRE_MESSAGE(r.client.credentials, r.client.failure, (r.client.error ? r.client.error->detail() : ""));
    const Credentials& s = *r.server.credentials;
    CHECK(s.cert_subject == std::string("CN=alice"));
    CHECK(s.cert_common_name == std::string("alice"));
    CHECK(s.cert_fingerprint->starts_with("sha256//"));
    CHECK(s.cert_serial->size() >= 16);
    CHECK(s.cert_not_after->ends_with("Z"));
    CHECK(s.tls_suite == std::string("TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"));
    CHECK(s.layers() == std::vector<std::string>{"transport", "tls"});
    const Credentials& c = *r.client.credentials;
    CHECK(c.cert_subject == std::string("CN=server.example"));
    CHECK(has_san(c, "DNS:server.example"));
    CHECK(c.channel_id->size() == 32);
    CHECK(*c.channel_id == *s.channel_id);
    CHECK(c.cert_fingerprint != *s.cert_fingerprint);
}

TEST_CASE("tls: data flows both ways and the stream reports its protection") {
    TlsFixture f;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        const Authenticator server = f.server(), client = f.client();
        auto srv = test::channel_harness::spawn(ex, server(start_session(std::move(s))));
        Session cs = co_await client(start_session(std::move(c)));
        Session ss = co_await test::channel_harness::result(srv);
        const Protection p = ss.stream.protection();
        CHECK(p.confidential);
        CHECK(p.peer_authenticated);
        CHECK(p.channel_id == *ss.credentials.channel_id);
        CHECK(p.transport.starts_with("TLSv1.2"));
        // Both ways at once; TLS 1.2 has no half-close (see tls.hpp), so
        // each side reads exactly what the other sends before closing.
        const Bytes up = test::channel_harness::pattern(1 << 20, 1), down = test::channel_harness::pattern(300000, 2);
        auto send = [](Stream& st, const Bytes& b) -> asio::awaitable<int> {
            co_await write_all(st, asio::buffer(b));
            co_return 0;
        };
        auto send_up = test::channel_harness::spawn(ex, send(cs.stream, up));
        auto send_down = test::channel_harness::spawn(ex, send(ss.stream, down));
        Bytes at_server(up.size()), at_client(down.size());
        co_await read_exact(ss.stream, asio::buffer(at_server));
        co_await read_exact(cs.stream, asio::buffer(at_client));
        co_await test::channel_harness::result(send_up);
        co_await test::channel_harness::result(send_down);
        CHECK(at_server == up);
        CHECK(at_client == down);
        co_await cs.stream.shutdown_send();
        std::array<std::uint8_t, 16> rest;
        CHECK(co_await ss.stream.read_some(asio::buffer(rest)) == 0);
    });
}

TEST_CASE("tls: channel ids differ between connections") {
    TlsFixture f;
    auto a = handshake(f.server(), f.client());
    auto b = handshake(f.server(), f.client());
    REQUIRE(a.server.credentials);
    REQUIRE(b.server.credentials);
    CHECK(*a.server.credentials->channel_id != *b.server.credentials->channel_id);
}

TEST_CASE("tls: a client without a certificate is denied when one is required") {
    TlsFixture f;
    auto r = handshake(f.server(), client::tls(f.client_options(nullptr)));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("showed no certificate"));
    CHECK_FALSE(r.server.credentials);
    CHECK_FALSE(r.client.credentials);
}

TEST_CASE("tls: optional and none client certificates") {
    TlsFixture f;
    auto optional = handshake(f.server(ClientCertificate::optional), client::tls(f.client_options(nullptr)));
    REQUIRE(optional.server.credentials);
    CHECK_FALSE(optional.server.credentials->cert_subject.known());
    CHECK(optional.server.credentials->channel_id.known());
    auto shown = handshake(f.server(ClientCertificate::optional), f.client());
    REQUIRE(shown.server.credentials);
    CHECK(shown.server.credentials->cert_subject == std::string("CN=alice"));
    auto none = handshake(f.server(ClientCertificate::none), f.client());
    REQUIRE(none.server.credentials);
    CHECK_FALSE(none.server.credentials->cert_subject.known());
    REQUIRE(none.client.credentials);
    CHECK(none.client.credentials->cert_subject == std::string("CN=server.example"));
}

TEST_CASE("tls: a client certificate from another CA is denied") {
    TlsFixture f;
    ca::Authority other = ca::make_authority({.name = "other CA"});
    ca::Issued stranger = ca::issue(other, client_leaf("mallory"));
    client::TlsClientOptions options{.credentials = fixed(credentials(&stranger, {&f.authority})),
                                     .server_name = "server.example"};
    auto r = handshake(f.server(), client::tls(options));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("CN=mallory"));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("bad_certificate"));
}

TEST_CASE("tls: a server certificate from another CA is denied") {
    TlsFixture f;
    ca::Authority other = ca::make_authority({.name = "other CA"});
    ca::Issued impostor = ca::issue(other, server_leaf());
    TlsServerOptions options{.credentials = fixed(credentials(&impostor, {&f.authority}))};
    auto r = handshake(tls(options), f.client());
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("CN=server.example"));
    CHECK_FALSE(r.server.credentials);
}

TEST_CASE("tls: expired and not-yet-valid certificates are denied") {
    TlsFixture f;
    for (auto shift : {std::chrono::hours(-48), std::chrono::hours(48)}) {
        auto request = client_leaf();
        request.now = Clock::now() + shift;
        ca::Issued stale = ca::issue(f.authority, request);
        auto r = handshake(f.server(), client::tls(f.client_options(&stale)));
        CHECK(r.server.reason() == DenyReason::denied);
        CHECK(r.server.detail_has(shift.count() < 0 ? "expired" : "not yet valid"));

        auto server_request = server_leaf();
        server_request.now = Clock::now() + shift;
        ca::Issued stale_server = ca::issue(f.authority, server_request);
        TlsServerOptions options{.credentials = fixed(credentials(&stale_server, {&f.authority}))};
        auto s = handshake(tls(options), f.client());
        CHECK(s.client.reason() == DenyReason::denied);
        CHECK(s.client.detail_has(shift.count() < 0 ? "expired" : "not yet valid"));
    }
}

TEST_CASE("tls: the client denies a server certificate for another name") {
    TlsFixture f;
    auto r = handshake(f.server(), client::tls(f.client_options(&f.client_cert, "db.example")));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("does not name \"db.example\""));
    CHECK_FALSE(r.server.credentials);
    // A client certificate is no server certificate (extended key usage).
    TlsServerOptions options{.credentials = fixed(credentials(&f.client_cert, {&f.authority}))};
    auto wrong_usage = handshake(tls(options), client::tls(f.client_options(&f.client_cert, "alice")));
    CHECK(wrong_usage.client.reason() == DenyReason::denied);
}

TEST_CASE("tls: names, wildcards and addresses") {
    TlsFixture f;
    ca::LeafRequest request = server_leaf("web");
    request.dns = {"*.example.org"};
    request.ip = {"127.0.0.1"};
    ca::Issued leaf = ca::issue(f.authority, request);
    TlsServerOptions options{.credentials = fixed(credentials(&leaf, {&f.authority}))};
    for (const char* good : {"a.example.org", "127.0.0.1", "A.Example.ORG"}) {
        auto r = handshake(tls(options), client::tls(f.client_options(&f.client_cert, good)));
        CHECK_MESSAGE(r.client.credentials, good);
    }
    for (const char* bad : {"example.org", "a.b.example.org", "127.0.0.2", "web"}) {
        auto r = handshake(tls(options), client::tls(f.client_options(&f.client_cert, bad)));
        CHECK_MESSAGE(r.client.reason() == DenyReason::denied, bad);
    }
}

TEST_CASE("tls_peer: pins and allowed names") {
    TlsFixture f;
    auto first = handshake(f.server(), f.client());
    REQUIRE(first.server.credentials);
    const std::string alice_pin = *first.server.credentials->cert_fingerprint;
    const std::string server_pin = *first.client.credentials->cert_fingerprint;
    auto with = [&](TlsPeerRules rules) {
        const Authenticator server = f.server() | tls_peer(rules);
        return handshake(server, f.client());
    };
    CHECK(with({.pins = {alice_pin}}).server.credentials);
    auto pinned_other = with({.pins = {server_pin}});
    CHECK(pinned_other.server.reason() == DenyReason::denied);
    CHECK(pinned_other.server.detail_has("matches no pin"));
    CHECK(with({.allow_cn = {"alice"}}).server.credentials);
    CHECK(with({.allow_cn = {"bob"}}).server.reason() == DenyReason::denied);
    CHECK(with({.allow_cn = {"bob"}, .allow_serial = {*first.server.credentials->cert_serial}}).server.credentials);
    CHECK(with({.allow_dns = {"alice"}}).server.reason() == DenyReason::denied);
    CHECK(with({.pins = {alice_pin}, .allow_cn = {"bob"}}).server.reason() == DenyReason::denied);

    // The client pins the server.
    const Authenticator pinned_client = f.client() | tls_peer({.pins = {alice_pin}});
    auto r = handshake(f.server(), pinned_client);
    CHECK(r.client.reason() == DenyReason::denied);
    // Without a certificate there is nothing to allow.
    const Authenticator optional_server = f.server(ClientCertificate::optional) | tls_peer({.allow_cn = {"alice"}});
    CHECK(handshake(optional_server, client::tls(f.client_options(nullptr))).server.reason() == DenyReason::denied);
    CHECK_THROWS_AS(tls_peer({.pins = {"sha256//short"}}), std::invalid_argument);
    CHECK_THROWS_AS(tls_peer({}), std::invalid_argument);
}

TEST_CASE("tls: a key that does not match the certificate, or no certificate, is refused") {
    TlsFixture f;
    TlsCredentialsPem pem;
    pem.chain = f.server_cert.certificate_pem;
    pem.key = f.client_cert.key_pem;
    CHECK_THROWS_WITH_AS(make_tls_credentials(pem), doctest::Contains("does not match"), std::invalid_argument);
    TlsCredentialsPem empty_chain;
    empty_chain.chain = "no PEM here";
    empty_chain.key = f.server_cert.key_pem;
    CHECK_THROWS_AS(make_tls_credentials(empty_chain), std::invalid_argument);
    CHECK(tls_policy_error({.ciphers = {"AES-128/CBC"}}).find("unknown cipher") != std::string::npos);
    CHECK(tls_policy_error({.groups = {}}).find("at least one") != std::string::npos);
}
