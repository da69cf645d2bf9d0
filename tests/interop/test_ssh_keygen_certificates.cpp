// Interop with the real ssh-keygen's certificates: made with
// `ssh-keygen -s CA -I id -n alice -V +1h` (user and -h host), with
// -O source-address / force-command, expired and not-yet-valid windows,
// empty principals, signed by ed25519, ecdsa and rsa CAs; each accepted or
// refused by the gate over the pipe as sshd would. And `ssh-keygen -L`
// reads the certificates authchain signs. P-384/P-521 keys authenticate
// end to end.
#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/certificate_sign.hpp>
#include "tests/auth/public_key_fixture.hpp"
#include "tests/interop/ssh_keygen.hpp"
#include "tests/support/prerequisites.hpp"

#include <doctest/doctest.h>

using namespace authchain;
using namespace authchain::openssh;
using namespace authchain::pk_test;

namespace {

using authchain::test::quote;
using authchain::test::run_ok;
using authchain::test::skip_without_ssh_keygen;

// ssh-keygen makes the CA, the user key and its certificate; the gate trusts the CA.
struct KeygenFixture {
    test::TempDir dir;
    std::filesystem::path ca = dir / "ca", id = dir / "id", host = dir / "host", ak = dir / "authorized_keys",
                          kh = dir / "known_hosts";

    explicit KeygenFixture(const std::string& ca_args = "-t ed25519", const std::string& id_args = "-t ed25519") {
        test::require_tools({"ssh-keygen"});
        run_ok("ssh-keygen -q " + ca_args + " -N '' -C ca -f " + quote(ca.string()));
        run_ok("ssh-keygen -q " + id_args + " -N '' -C alice -f " + quote(id.string()));
        run_ok("ssh-keygen -q -t ed25519 -N '' -C host -f " + quote(host.string()));
        test::write_file(ak, "cert-authority " + test::read_file(ca.string() + ".pub"), 0600);
        test::write_file(kh, "server.example " + test::read_file(host.string() + ".pub"), 0600);
        std::filesystem::permissions(id, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
    void sign_user(const std::string& args) {
        run_ok("ssh-keygen -q -s " + quote(ca.string()) + " -I alice-id " + args + " " + quote(id.string() + ".pub"));
    }
    Result run(const std::string& user = "alice") const {
        PublicKeyServerOptions s{.host_key = host, .host_key_passphrase = std::nullopt, .authorized_keys = ak};
        client::PublicKeyClientOptions c{.identity = id, .passphrase = std::nullopt, .known_hosts = kh,
                                         .host_name = "server.example", .port = 0, .strict = true};
        c.user = user;
        return handshake(public_key(s), client::public_key(c));
    }
};

std::string why(const Side& s) { return s.error ? s.error->detail() : s.failure; }

}  // namespace

TEST_CASE("ssh-keygen user certificates from ed25519, ecdsa and rsa CAs are accepted as sshd would" *
          doctest::skip(skip_without_ssh_keygen())) {
    for (std::string ca : {"-t ed25519", "-t ecdsa -b 384", "-t rsa -b 2048"}) {
        for (std::string key : {"-t ed25519", "-t ecdsa -b 521", "-t rsa -b 2048"}) {
            CAPTURE(ca);
            CAPTURE(key);
            KeygenFixture f(ca, key);
            f.sign_user("-n alice,ops -V +1h -z 77");
            auto r = f.run();
            REQUIRE_MESSAGE(r.server.credentials, why(r.server));
            CHECK(r.server.credentials->user == std::string("alice"));
            CHECK(r.server.credentials->cert_key_id == std::string("alice-id"));
            CHECK(r.server.credentials->ssh_cert_serial == std::string("77"));
            // ssh-keygen -l fingerprints the CA as we record it.
            const std::string ca_fp = run_ok("ssh-keygen -l -f " + quote(f.ca.string() + ".pub"));
            CHECK(ca_fp.find(*r.server.credentials->ssh_ca_fingerprint) != std::string::npos);
            CHECK(f.run("bob").server.detail_has("\"bob\" is not among"));
        }
    }
}

TEST_CASE("ssh-keygen certificates sshd refuses are refused" * doctest::skip(skip_without_ssh_keygen())) {
    KeygenFixture f;
    SUBCASE("expired") {
        f.sign_user("-n alice -V 20200101:20200102");
        CHECK_MESSAGE(f.run().server.detail_has("expired"), why(f.run().server));
    }
    SUBCASE("not yet valid") {
        f.sign_user("-n alice -V +1d:+2d");
        CHECK(f.run().server.detail_has("not yet valid"));
    }
    SUBCASE("empty principals") {
        f.sign_user("-V +1h");
        CHECK(f.run().server.detail_has("no principals"));
    }
    SUBCASE("force-command") {
        f.sign_user("-n alice -V +1h -O force-command=/bin/date");
        CHECK(f.run().server.detail_has("force-command"));
    }
    SUBCASE("verify-required") {
        f.sign_user("-n alice -V +1h -O verify-required");
        CHECK(f.run().server.detail_has("verify-required"));
    }
    SUBCASE("source-address that excludes the peer, then one that includes it") {
        f.sign_user("-n alice -V +1h -O source-address=192.0.2.0/24");
        CHECK(f.run().server.detail_has("source-address"));
        f.sign_user("-n alice -V +1h -O source-address=192.0.2.0/24,127.0.0.0/8");
        CHECK_MESSAGE(f.run().server.credentials, why(f.run().server));
    }
    SUBCASE("a host certificate (-h) as user certificate") {
        run_ok("ssh-keygen -q -s " + quote(f.ca.string()) + " -h -I h -n alice -V +1h " +
               quote(f.id.string() + ".pub"));
        CHECK_THROWS_WITH(f.run(), doctest::Contains("not a user certificate"));
    }
}

TEST_CASE("ssh-keygen host certificates (-h) are accepted through @cert-authority" *
          doctest::skip(skip_without_ssh_keygen())) {
    KeygenFixture f;
    f.sign_user("-n alice -V +1h");
    run_ok("ssh-keygen -q -s " + quote(f.ca.string()) + " -h -I gate -n server.example -V +1h " +
           quote(f.host.string() + ".pub"));
    test::write_file(f.kh, "@cert-authority *.example " + test::read_file(f.ca.string() + ".pub"), 0600);
    auto r = f.run();
    REQUIRE_MESSAGE(r.client.credentials, why(r.client));
    run_ok("ssh-keygen -q -s " + quote(f.ca.string()) + " -h -I gate -n other.example -V +1h " +
           quote(f.host.string() + ".pub"));
    CHECK(f.run().client.detail_has("not among its principals"));
}

TEST_CASE("ssh-keygen -L reads the certificates authchain signs" * doctest::skip(skip_without_ssh_keygen())) {
    test::require_tools({"ssh-keygen"});
    test::TempDir dir;
    PrivateKey key = PrivateKey::generate_ecdsa(384);
    for (std::string ca_type : {"ed25519", "ecdsa", "rsa"}) {
        CAPTURE(ca_type);
        PrivateKey ca = ca_type == "ed25519" ? PrivateKey::generate_ed25519()
                        : ca_type == "ecdsa" ? PrivateKey::generate_ecdsa(521)
                                             : PrivateKey::generate_rsa(2048);
        auto request = certificate_request(CertificateType::user, "signed by authchain", {"alice", "bob"});
        request.serial = 1234;
        request.critical_options = {string_option("source-address", "10.0.0.0/8")};
        const auto path = dir / ("cert-" + ca_type + ".pub");
        test::write_file(path, sign_certificate(key.public_key(), request, ca).to_line() + "\n");
        const std::string listing = run_ok("ssh-keygen -L -f " + quote(path.string()));
        CHECK(listing.find("user certificate") != std::string::npos);
        CHECK(listing.find("Key ID: \"signed by authchain\"") != std::string::npos);
        CHECK(listing.find("Serial: 1234") != std::string::npos);
        CHECK(listing.find("source-address 10.0.0.0/8") != std::string::npos);
        CHECK(listing.find("permit-pty") != std::string::npos);
        CHECK(listing.find(ca.public_key().fingerprint()) != std::string::npos);
        CHECK(listing.find(key.public_key().fingerprint()) != std::string::npos);
        // And sshd's own check of the certificate against its CA: ssh-keygen -Y ... is not for certs; use
        // ssh-keygen -L's "Signing CA" plus our parser round trip.
        CHECK(Certificate::from_line(test::read_file(path)).verify_signature());
    }
    // A host certificate.
    PrivateKey ca = PrivateKey::generate_ed25519();
    const auto host = dir / "host-cert.pub";
    test::write_file(host, sign_certificate(key.public_key(),
                                            certificate_request(CertificateType::host, "gate", {"gate.example"}), ca)
                                   .to_line() + "\n");
    CHECK(run_ok("ssh-keygen -L -f " + quote(host.string())).find("host certificate") != std::string::npos);
}

TEST_CASE("P-384 and P-521 keys from ssh-keygen authenticate end to end" * doctest::skip(skip_without_ssh_keygen())) {
    test::require_tools({"ssh-keygen"});
    for (std::string bits : {"384", "521"}) {
        CAPTURE(bits);
        test::TempDir dir;
        const auto id = dir / "id", host = dir / "host";
        run_ok("ssh-keygen -q -t ecdsa -b " + bits + " -N 'p w' -C alice -f " + quote(id.string()));
        run_ok("ssh-keygen -q -t ecdsa -b " + bits + " -N '' -C host -f " + quote(host.string()));
        test::write_file(dir / "ak", test::read_file(id.string() + ".pub"), 0600);
        test::write_file(dir / "kh", "server.example " + test::read_file(host.string() + ".pub"), 0600);
        PublicKeyServerOptions s{.host_key = host, .host_key_passphrase = std::nullopt, .authorized_keys = dir / "ak"};
        client::PublicKeyClientOptions c{.identity = id, .passphrase = std::string("p w"), .known_hosts = dir / "kh",
                                         .host_name = "server.example", .port = 0, .strict = true};
        auto r = handshake(public_key(s), client::public_key(c));
        REQUIRE_MESSAGE(r.server.credentials, why(r.server));
        CHECK(r.server.credentials->key_type == "ecdsa-sha2-nistp" + bits);
        const std::string fp = run_ok("ssh-keygen -l -f " + quote(id.string() + ".pub"));
        CHECK(fp.find(*r.server.credentials->key_fingerprint) != std::string::npos);
        REQUIRE(r.client.credentials);
    }
}
