// Peers that try what the policy forbids, and proofs moved between TLS
// connections.
#include <doctest/doctest.h>

#include <botan/credentials_manager.h>
#include <botan/system_rng.h>
#include <botan/tls_client.h>
#include <botan/tls_policy.h>
#include <botan/tls_session_manager.h>

#include "tests/auth/tls_fixture.hpp"
#include "tests/transport/channel_harness.hpp"

using namespace authchain;
using namespace authchain::tls_test;

namespace {

// A Botan client with a policy of the test's choosing: CBC suites, TLS 1.0.
class PermissivePolicy final : public Botan::TLS::Policy {
public:
    PermissivePolicy(std::vector<std::string> ciphers, std::vector<std::string> macs, bool tls10_only)
        : ciphers_(std::move(ciphers)), macs_(std::move(macs)), tls10_only_(tls10_only) {}
    std::vector<std::string> allowed_ciphers() const override { return ciphers_; }
    std::vector<std::string> allowed_macs() const override { return macs_; }
    bool allow_tls10() const override { return true; }
    bool allow_tls11() const override { return !tls10_only_; }
    bool allow_tls12() const override { return !tls10_only_; }
    bool require_cert_revocation_info() const override { return false; }

private:
    std::vector<std::string> ciphers_, macs_;
    bool tls10_only_;
};

struct RawClient final : Botan::TLS::Callbacks {
    Bytes out;
    bool alert = false, established = false;
    void tls_emit_data(const std::uint8_t d[], std::size_t n) override { out.insert(out.end(), d, d + n); }
    void tls_record_received(std::uint64_t, const std::uint8_t[], std::size_t) override {}
    void tls_alert(Botan::TLS::Alert) override { alert = true; }
    bool tls_session_established(const Botan::TLS::Session&) override {
        established = true;
        return false;
    }
    void tls_verify_cert_chain(const std::vector<Botan::X509_Certificate>&,
                               const std::vector<std::shared_ptr<const Botan::OCSP::Response>>&,
                               const std::vector<Botan::Certificate_Store*>&, Botan::Usage_Type, const std::string&,
                               const Botan::TLS::Policy&) override {}
};

// Runs a permissive Botan client against the authchain server; true when
// its handshake completed.
asio::awaitable<bool> raw_client(Stream stream, const PermissivePolicy& policy, Botan::TLS::Protocol_Version version) {
    RawClient callbacks;
    Botan::TLS::Session_Manager_Noop sessions;
    Botan::Credentials_Manager creds;
    Botan::TLS::Client client(callbacks, sessions, creds, policy, Botan::system_rng(),
                              Botan::TLS::Server_Information("server.example"), version);
    std::array<std::uint8_t, 4096> buf;
    try {
        for (int i = 0; i < 100 && !callbacks.established && !client.is_closed(); ++i) {
            if (!callbacks.out.empty()) {
                Bytes o;
                o.swap(callbacks.out);
                co_await write_all(stream, asio::buffer(o));
            }
            std::size_t n = co_await stream.read_some(asio::buffer(buf));
            if (n == 0) break;
            client.received_data(buf.data(), n);
        }
    } catch (const std::exception&) {
    }
    co_return callbacks.established;
}

void check_refused(const PermissivePolicy& policy, Botan::TLS::Protocol_Version version) {
    TlsFixture f;
    auto outcome = test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::pair<bool, pk_test::Side>> {
        auto [c, s] = make_pipe(ex);
        const Authenticator server = f.server(ClientCertificate::none);
        auto srv = test::channel_harness::spawn(ex, pk_test::side(server, std::move(s)));
        bool established = co_await raw_client(std::move(c), policy, version);
        pk_test::Side side = co_await test::channel_harness::result(srv);
        co_return std::pair{established, std::move(side)};
    });
    CHECK_FALSE(outcome.first);
    CHECK(outcome.second.reason() == DenyReason::protocol_error);
    CHECK_FALSE(outcome.second.credentials);
}

}  // namespace

TEST_CASE("tls: the permissive test client itself gets through with an AEAD suite") {
    TlsFixture f;
    PermissivePolicy policy({"AES-256/GCM"}, {"AEAD"}, false);
    bool established = test::run([&](asio::any_io_executor ex) -> asio::awaitable<bool> {
        auto [c, s] = make_pipe(ex);
        const Authenticator server = f.server(ClientCertificate::none);
        auto srv = test::channel_harness::spawn(ex, pk_test::side(server, std::move(s)));
        bool ok = co_await raw_client(std::move(c), policy, Botan::TLS::Protocol_Version::TLS_V12);
        co_await test::channel_harness::wait(srv);
        CHECK(srv->value.credentials);
        co_return ok;
    });
    CHECK(established);
}

TEST_CASE("tls: a client offering only CBC suites is refused") {
    check_refused(PermissivePolicy({"AES-128", "AES-256"}, {"SHA-256", "SHA-1"}, false),
                  Botan::TLS::Protocol_Version::TLS_V12);
}

TEST_CASE("tls: a TLS 1.0 client is refused") {
    check_refused(PermissivePolicy({"AES-128", "AES-256"}, {"SHA-1"}, true), Botan::TLS::Protocol_Version::TLS_V10);
}

TEST_CASE("tls: a non-TLS peer and a truncated handshake are protocol errors") {
    TlsFixture f;
    auto garbage = test::run([&](asio::any_io_executor ex) -> asio::awaitable<pk_test::Side> {
        auto [c, s] = make_pipe(ex);
        const Authenticator server = f.server();
        auto srv = test::channel_harness::spawn(ex, pk_test::side(server, std::move(s)));
        const std::string hello = "GET / HTTP/1.0\r\n\r\n";
        co_await write_all(c, asio::buffer(hello));
        co_await c.shutdown_send();
        co_return co_await test::channel_harness::result(srv);
    });
    CHECK(garbage.reason() == DenyReason::protocol_error);
    PipeOptions cut;
    cut.server.faults.truncate_after = 100;  // the server reads a cut ClientHello
    auto r = handshake(f.server(), f.client(), cut);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK_FALSE(r.client.credentials);
}

TEST_CASE("tls: a public_key proof moved to another TLS connection fails") {
    TlsFixture f;
    pk_test::Fixture keys;
    // The attacker holds a server certificate of the same CA (another
    // server of the organisation) and relays the public_key messages
    // between its TLS connection with the client and its own with the server.
    ca::Issued attacker_cert = ca::issue(f.authority, server_leaf());
    TlsServerOptions attacker_server{.credentials = fixed(credentials(&attacker_cert, {&f.authority})),
                                     .client_certificate = ClientCertificate::none};
    const Authenticator server = f.server(ClientCertificate::none) | keys.server();
    const Authenticator client_chain = f.client() | keys.client();
    const Authenticator attacker_to_client = tls(attacker_server);
    const Authenticator attacker_to_server = client::tls(f.client_options(&attacker_cert));

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
    CHECK_FALSE(r.server.credentials);
    CHECK_FALSE(r.client.credentials);
    CHECK((r.server.error || r.client.error));

    // Without the relay, the same chains succeed.
    auto direct = handshake(server, client_chain);
    CHECK(direct.server.credentials);
    CHECK(direct.client.credentials);
}
