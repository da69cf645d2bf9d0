// public_key with OpenSSH certificates over the pipe: user certificates
// accepted by a cert-authority line, every refusal, host certificates
// accepted by @cert-authority, revoked keys and CAs.
#include <doctest/doctest.h>

#include <authchain/auth/openssh/certificate_check.hpp>
#include <authchain/auth/openssh/certificate_sign.hpp>
#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;
using namespace authchain::pk_test;
using namespace authchain::openssh;

namespace {

// A Fixture whose user logs in with a certificate for "alice" signed by `ca`.
struct CertFixture : Fixture {
    PrivateKey ca = PrivateKey::generate_ed25519();
    PrivateKey host_ca = PrivateKey::generate_ecdsa(384);
    std::filesystem::path certificate = dir / "id_ed25519-cert.pub";

    CertFixture() {
        test::write_file(authorized_keys, "cert-authority " + ca.public_key().to_line("users CA") + "\n", 0600);
        issue(certificate_request(CertificateType::user, "alice@corp", {"alice", "ops"}));
    }
    void issue(const CertificateRequest& r) {
        test::write_file(certificate, sign_certificate(user.public_key(), r, ca).to_line("c") + "\n", 0600);
    }
    client::PublicKeyClientOptions cert_client_options(std::string claimed = "alice") const {
        auto o = client_options();
        o.user = std::move(claimed);
        return o;
    }
    Result run(std::string claimed = "alice") const {
        return handshake(server(), client::public_key(cert_client_options(std::move(claimed))));
    }
};

// Both sides end denied; the server's detail says `why`.
void check_both_denied(const Result& r, const std::string& why) {
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK_MESSAGE(r.server.detail_has(why), (r.server.error ? r.server.error->detail() : r.server.failure));
    CHECK(r.client.reason() == DenyReason::denied);
}

}  // namespace

TEST_CASE("public_key: a user certificate from a cert-authority CA is accepted, with its facts") {
    CertFixture f;
    auto r = f.run();
    REQUIRE_MESSAGE(r.server.credentials, r.server.failure, (r.server.error ? r.server.error->detail() : ""));
    REQUIRE(r.client.credentials);
    const Credentials& s = *r.server.credentials;
    CHECK(s.user == std::string("alice"));
    CHECK(s.key_type == std::string("ssh-ed25519-cert-v01@openssh.com"));
    CHECK(s.key_fingerprint == f.user.public_key().fingerprint());
    CHECK(s.cert_key_id == std::string("alice@corp"));
    CHECK(s.ssh_cert_serial == std::string("0"));
    CHECK(s.ssh_ca_fingerprint == f.ca.public_key().fingerprint());
    CHECK(s.ssh_cert_valid_before.known());
    CHECK(s.key_comment == std::string("users CA"));
}

TEST_CASE("public_key: the certificate is found next to the identity, and a claimed user is required") {
    CertFixture f;
    auto o = f.client_options();  // no user
    CHECK_THROWS_AS(client::public_key(o), std::invalid_argument);
    // An explicit certificate path wins over the default.
    std::filesystem::rename(f.certificate, f.dir / "elsewhere.pub");
    auto explicit_cert = f.cert_client_options();
    explicit_cert.certificate = f.dir / "elsewhere.pub";
    auto r = handshake(f.server(), client::public_key(explicit_cert));
    CHECK(r.server.credentials);
    // Without a certificate the plain key is offered, and a cert-authority line does not list it.
    auto plain = handshake(f.server(), f.client());
    check_both_denied(plain, "key not in authorized_keys");
}

TEST_CASE("public_key: user certificate refusals (each with its reason in the local detail)") {
    CertFixture f;
    SUBCASE("a user not among the principals") { check_both_denied(f.run("mallory"), "\"mallory\" is not among"); }
    SUBCASE("a host certificate offered as a user certificate (the client refuses to load one, so scripted)") {
        const Certificate host_type =
            sign_certificate(f.user.public_key(), certificate_request(CertificateType::host, "h", {"alice"}), f.ca);
        auto r = handshake(f.server(), scripted_client([&](const KeyProof& s1) {
                               return encode_c1({host_type.blob(),
                                                 f.user.sign(user_cert_signed_data(channel_a, s1.key_blob, "alice",
                                                                                   host_type.blob())),
                                                 std::string("alice")});
                           }));
        CHECK(r.server.detail_has("not a user certificate"));
        f.issue(certificate_request(CertificateType::host, "h", {"alice"}));
        CHECK_THROWS_WITH(client::public_key(f.cert_client_options()), doctest::Contains("not a user certificate"));
    }
    SUBCASE("expired") {
        auto r = certificate_request(CertificateType::user, "old", {"alice"});
        r.valid_after = 1000;
        r.valid_before = 2000;
        f.issue(r);
        check_both_denied(f.run(), "has expired");
    }
    SUBCASE("not yet valid") {
        auto r = certificate_request(CertificateType::user, "future", {"alice"});
        r.valid_after = certificate_now() + 3600;
        r.valid_before = r.valid_after + 3600;
        f.issue(r);
        check_both_denied(f.run(), "not yet valid");
    }
    SUBCASE("empty principals") {
        f.issue(certificate_request(CertificateType::user, "nobody", {}));
        check_both_denied(f.run(), "no principals");
    }
    SUBCASE("source-address that does not contain the peer") {
        auto r = certificate_request(CertificateType::user, "src", {"alice"});
        r.critical_options = {string_option("source-address", "192.0.2.0/24")};
        f.issue(r);
        check_both_denied(f.run(), "source-address");
    }
    SUBCASE("force-command") {
        auto r = certificate_request(CertificateType::user, "fc", {"alice"});
        r.critical_options = {string_option("force-command", "/bin/date")};
        f.issue(r);
        check_both_denied(f.run(), "force-command");
    }
    SUBCASE("verify-required") {
        auto r = certificate_request(CertificateType::user, "vr", {"alice"});
        r.critical_options = {{"verify-required", {}}};
        f.issue(r);
        check_both_denied(f.run(), "verify-required");
    }
    SUBCASE("an unknown critical option") {
        auto r = certificate_request(CertificateType::user, "uk", {"alice"});
        r.critical_options = {string_option("frobnicate@example.com", "x")};
        f.issue(r);
        check_both_denied(f.run(), "unknown critical option");
    }
    SUBCASE("signed by a CA that is not listed") {
        test::write_file(f.authorized_keys,
                         "cert-authority " + PrivateKey::generate_ed25519().public_key().to_line() + "\n", 0600);
        check_both_denied(f.run(), "not in authorized_keys as cert-authority");
    }
    SUBCASE("the CA listed as a plain key only") {
        test::write_file(f.authorized_keys, f.ca.public_key().to_line() + "\n", 0600);
        check_both_denied(f.run(), "cert-authority");
    }
    SUBCASE("principals= on the line: the certificate must name one of them") {
        test::write_file(f.authorized_keys,
                         "cert-authority,principals=\"deploy\" " + f.ca.public_key().to_line() + "\n", 0600);
        check_both_denied(f.run(), "principals=");
        test::write_file(f.authorized_keys,
                         "cert-authority,principals=\"deploy,ops\" " + f.ca.public_key().to_line() + "\n", 0600);
        CHECK(f.run("anyone").server.credentials);
    }
    SUBCASE("from= and expiry-time= of the line still apply") {
        test::write_file(f.authorized_keys,
                         "cert-authority,from=\"192.0.2.1\" " + f.ca.public_key().to_line() + "\n", 0600);
        check_both_denied(f.run(), "from=");
        test::write_file(f.authorized_keys,
                         "cert-authority,expiry-time=\"20200101\" " + f.ca.public_key().to_line() + "\n", 0600);
        check_both_denied(f.run(), "expired");
    }
    SUBCASE("line restrictions a gate cannot honour") {
        test::write_file(f.authorized_keys,
                         "cert-authority,no-port-forwarding " + f.ca.public_key().to_line() + "\n", 0600);
        check_both_denied(f.run(), "no-port-forwarding");
    }
    SUBCASE("a revoked key, or a revoked CA") {
        auto server_options = f.server_options();
        server_options.revoked_keys = f.dir / "revoked";
        test::write_file(f.dir / "revoked", f.user.public_key().to_line() + "\n", 0600);
        auto r = handshake(public_key(server_options), client::public_key(f.cert_client_options()));
        check_both_denied(r, "the key is revoked");
        test::write_file(f.dir / "revoked", "# CA compromised\n" + f.ca.public_key().to_line() + "\n", 0600);
        r = handshake(public_key(server_options), client::public_key(f.cert_client_options()));
        check_both_denied(r, "the CA key is revoked");
    }
}

TEST_CASE("public_key: a plain key listed in revoked_keys is refused before any signature work") {
    Fixture f;
    auto options = f.server_options();
    options.revoked_keys = f.dir / "revoked";
    test::write_file(f.dir / "revoked", f.user.public_key().to_line() + "\n", 0600);
    VerifyCounter counter;
    auto r = handshake(public_key(options), f.client());
    check_both_denied(r, "is revoked");
    CHECK(counter.count() == 1);  // the client's check of the host; none by the server
    // A KRL is refused when the layer is built, not read as an empty list.
    test::write_file(f.dir / "revoked", std::string("SSHKRL\n\0\0\0\0\1", 12), 0600);
    CHECK_THROWS_WITH_AS(public_key(options), doctest::Contains("KRL"), FormatError);
}

TEST_CASE("public_key: reload() picks up a new revoked_keys file") {
    CertFixture f;
    auto options = f.server_options();
    options.revoked_keys = f.dir / "revoked";
    test::write_file(f.dir / "revoked", "", 0600);
    auto files = std::make_shared<PublicKeyFiles>(options);
    CHECK(handshake(public_key(files), client::public_key(f.cert_client_options())).server.credentials);
    test::write_file(f.dir / "revoked", f.ca.public_key().to_line() + "\n", 0600);
    files->reload();
    check_both_denied(handshake(public_key(files), client::public_key(f.cert_client_options())), "revoked");
}

TEST_CASE("public_key: a forged proof with a valid certificate is refused (the CA signs, the key proves)") {
    CertFixture f;
    const Certificate cert = Certificate::from_line(test::read_file(f.certificate));
    PrivateKey thief = PrivateKey::generate_ed25519();
    auto r = handshake(f.server(), scripted_client([&](const KeyProof& s1) {
                           return encode_c1({cert.blob(),
                                             thief.sign(user_cert_signed_data(channel_a, s1.key_blob, "alice",
                                                                              cert.blob())),
                                             std::string("alice")});
                       }));
    CHECK(r.server.detail_has("signature does not verify"));
    // The proof is bound to the claimed user: signed for "alice", claimed as "ops".
    auto swapped = handshake(f.server(), scripted_client([&](const KeyProof& s1) {
                                 return encode_c1({cert.blob(),
                                                   f.user.sign(user_cert_signed_data(channel_a, s1.key_blob,
                                                                                     "alice", cert.blob())),
                                                   std::string("ops")});
                             }));
    CHECK(swapped.server.detail_has("signature does not verify"));
    // A certificate without a claimed user, or a user without a certificate: protocol errors.
    auto no_user = handshake(f.server(), scripted_client([&](const KeyProof& s1) {
                                 return encode_c1({cert.blob(), f.user.sign(user_signed_data(channel_a, s1.key_blob)), {}});
                             }));
    CHECK(no_user.server.reason() == DenyReason::protocol_error);
    auto stray_user = handshake(f.server(), scripted_client([&](const KeyProof& s1) {
                                    return encode_c1({f.user.public_key().blob(),
                                                      f.user.sign(user_signed_data(channel_a, s1.key_blob)),
                                                      std::string("alice")});
                                }));
    CHECK(stray_user.server.reason() == DenyReason::protocol_error);
}

TEST_CASE("public_key: a host certificate is accepted through @cert-authority; @revoked still wins") {
    CertFixture f;
    const auto host_cert = f.dir / "host_key-cert.pub";  // the default name next to the host key
    auto issue_host = [&](std::vector<std::string> names, CertificateType type = CertificateType::host) {
        test::write_file(host_cert,
                         sign_certificate(f.host.public_key(), certificate_request(type, "gate", names), f.host_ca)
                                 .to_line() + "\n",
                         0600);
    };
    issue_host({"server.example"});
    test::write_file(f.known_hosts, "@cert-authority *.example " + f.host_ca.public_key().to_line() + "\n", 0600);
    auto r = f.run();
    REQUIRE_MESSAGE(r.client.credentials, (r.client.error ? r.client.error->detail() : r.client.failure));
    CHECK(r.client.credentials->key_fingerprint == f.host.public_key().fingerprint());
    REQUIRE(r.server.credentials);

    SUBCASE("the host name is not among the principals") {
        issue_host({"other.example"});
        auto bad = f.run();
        CHECK(bad.client.detail_has("not among its principals"));
    }
    SUBCASE("the line's patterns do not match: falls back to the plain key, unknown under strict") {
        test::write_file(f.known_hosts, "@cert-authority *.other " + f.host_ca.public_key().to_line() + "\n", 0600);
        CHECK(f.run().client.detail_has("strict host key checking"));
    }
    SUBCASE("@revoked CA") {
        test::write_file(f.known_hosts, "@cert-authority *.example " + f.host_ca.public_key().to_line() + "\n" +
                                            "@revoked * " + f.host_ca.public_key().to_line() + "\n",
                         0600);
        CHECK(f.run().client.detail_has("REVOKED"));
    }
    SUBCASE("@revoked host key") {
        test::write_file(f.known_hosts, "@cert-authority *.example " + f.host_ca.public_key().to_line() + "\n" +
                                            "@revoked * " + f.host.public_key().to_line() + "\n",
                         0600);
        CHECK(f.run().client.detail_has("REVOKED"));
    }
    SUBCASE("a user certificate as host certificate is refused when the gate loads it") {
        issue_host({"server.example"}, CertificateType::user);
        CHECK_THROWS_WITH_AS(f.server(), doctest::Contains("not a host certificate"), FormatError);
    }
}
