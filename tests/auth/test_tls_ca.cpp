// auth/tls_ca.hpp and auth/tls_files.hpp: the private CA and the files a
// tls layer reads.
#include <doctest/doctest.h>

#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/pkcs8.h>
#include <botan/system_rng.h>
#include <botan/x509self.h>

#include <authchain/compose/certificate_expiry.hpp>
#include "tests/auth/tls_fixture.hpp"

using namespace authchain;
using namespace authchain::tls_test;

namespace {

Botan::X509_Certificate parse(const std::string& pem) {
    Botan::DataSource_Memory source(pem);
    return Botan::X509_Certificate(source);
}

using authchain::test::mode_of;

}  // namespace

TEST_CASE("ca: init writes a private key and a CA certificate of path length 0, once") {
    test::TempDir dir;
    ca::init_authority(dir / "ca", {.name = "unit CA"});
    CHECK(mode_of(dir / "ca" / "ca.key") == 0600);
    CHECK(mode_of(dir / "ca") == 0700);
    ca::Authority a = ca::load_authority(dir / "ca");
    CHECK(a.certificate().is_CA_cert());
    CHECK(a.certificate().path_limit() == 0);
    CHECK(a.certificate().subject_dn().get_first_attribute("CN") == "unit CA");
    CHECK(a.key().algo_name() == "ECDSA");
    CHECK_THROWS_WITH(ca::init_authority(dir / "ca"), doctest::Contains("already holds a CA"));
    ::chmod((dir / "ca" / "ca.key").c_str(), 0644);
    CHECK_THROWS(ca::load_authority(dir / "ca"));
}

TEST_CASE("ca: issue gives the right usages, names, lifetime and a random serial") {
    TlsFixture f;
    ca::LeafRequest request = server_leaf("db1");
    request.dns = {"db1.example", "db1"};
    request.ip = {"10.0.0.7"};
    request.uri = {"spiffe://example/db1"};
    ca::Issued issued = ca::issue(f.authority, request);
    auto cert = parse(issued.certificate_pem);
    CHECK_FALSE(cert.is_CA_cert());
    CHECK(cert.allowed_extended_usage("PKIX.ServerAuth"));
    CHECK_FALSE(cert.allowed_extended_usage("PKIX.ClientAuth"));
    CHECK(cert.allowed_usage(Botan::DIGITAL_SIGNATURE));
    auto dns = cert.subject_alt_name().get_attribute("DNS");
    std::sort(dns.begin(), dns.end());
    CHECK(dns == std::vector<std::string>{"db1", "db1.example"});
    CHECK(cert.subject_alt_name().get_attribute("IP") == std::vector<std::string>{"10.0.0.7"});
    CHECK(cert.subject_alt_name().get_attribute("URI") == std::vector<std::string>{"spiffe://example/db1"});
    CHECK(cert.serial_number().size() >= 8);
    CHECK(cert.serial_number() != parse(ca::issue(f.authority, request).certificate_pem).serial_number());
    const auto lifetime = cert.not_after().to_std_timepoint() - cert.not_before().to_std_timepoint();
    CHECK(lifetime == std::chrono::hours(24) + std::chrono::minutes(5));

    request.lifetime = std::chrono::hours(721);
    CHECK_THROWS_WITH(ca::issue(f.authority, request), doctest::Contains("beyond the maximum of 720"));
    request.max_lifetime = std::chrono::hours(1000);
    CHECK_NOTHROW(ca::issue(f.authority, request));
    request = server_leaf("not a host");
    CHECK_THROWS_WITH(ca::issue(f.authority, request), doctest::Contains("needs --dns or --ip"));
    request = client_leaf("x");
    request.ip = {"::1"};
    CHECK_THROWS_WITH(ca::issue(f.authority, request), doctest::Contains("IPv4"));
}

TEST_CASE("ca: sign builds its own extensions and copies no CA flag or SAN from the CSR") {
    TlsFixture f;
    Botan::ECDSA_PrivateKey key(Botan::system_rng(), Botan::EC_Group("secp256r1"));
    Botan::X509_Cert_Options options("evil/US/Example/IT");
    options.CA_key(5);
    options.dns = "bank.example";
    auto csr = Botan::X509::create_cert_req(options, key, "SHA-256", Botan::system_rng());
    ca::Issued issued = ca::sign_request(f.authority, csr.PEM_encode(), client_leaf(""));
    CHECK(issued.key_pem.empty());
    auto cert = parse(issued.certificate_pem);
    CHECK_FALSE(cert.is_CA_cert());
    CHECK(cert.subject_dn().get_first_attribute("CN") == "evil");
    CHECK(cert.subject_dn().get_first_attribute("O").empty());
    CHECK(cert.subject_alt_name().get_attribute("DNS").empty());
    CHECK(cert.allowed_extended_usage("PKIX.ClientAuth"));
    CHECK(cert.subject_public_key_info() == key.subject_public_key());

    std::string tampered = csr.PEM_encode();
    tampered[tampered.size() / 2] = tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
    CHECK_THROWS(ca::sign_request(f.authority, tampered, client_leaf("x")));
    CHECK_THROWS(ca::sign_request(f.authority, "not a CSR", client_leaf("x")));
}

TEST_CASE("ca: still_valid tells a renewal that can wait") {
    TlsFixture f;
    CHECK(ca::still_valid(f.authority, f.server_cert.certificate_pem, std::chrono::hours(8)));
    CHECK_FALSE(ca::still_valid(f.authority, f.server_cert.certificate_pem, std::chrono::hours(25)));
    ca::Authority other = ca::make_authority({.name = "other"});
    CHECK_FALSE(ca::still_valid(other, f.server_cert.certificate_pem, std::chrono::hours(1)));
    CHECK_FALSE(ca::still_valid(f.authority, "garbage", std::chrono::hours(1)));
}

TEST_CASE("tls files: read with mode checks, reloaded, a failed reload keeps the old set") {
    TlsFixture f;
    test::TempDir dir;
    ca::write_issued(dir.path(), "server", f.server_cert);
    test::write_file(dir / "ca.crt", f.authority.certificate_pem(), 0644);
    CHECK(mode_of(dir / "server.key") == 0600);
    auto files = std::make_shared<TlsFiles>(
        TlsFileOptions{.cert = dir / "server.crt", .key = dir / "server.key", .ca = {dir / "ca.crt"}});
    auto first = files->current();
    TlsServerOptions options{.credentials = TlsFiles::source(files)};
    auto r = handshake(tls(options), f.client());
    REQUIRE(r.client.credentials);
    const std::string old_pin = *r.client.credentials->cert_fingerprint;

    ca::Issued renewed = ca::issue(f.authority, server_leaf());
    ca::write_issued(dir.path(), "server", renewed);
    files->reload();
    CHECK(files->current() != first);
    auto after = handshake(tls(options), f.client());
    REQUIRE(after.client.credentials);
    CHECK(*after.client.credentials->cert_fingerprint != old_pin);

    test::write_file(dir / "server.crt", "broken", 0644);
    auto kept = files->current();
    CHECK_THROWS(files->reload());
    CHECK(files->current() == kept);
    ::chmod((dir / "server.key").c_str(), 0644);
    CHECK_THROWS_WITH(TlsFiles(TlsFileOptions{.cert = dir / "server.crt", .key = dir / "server.key"}),
                      doctest::Contains("server.key"));
}

TEST_CASE("tls files: each load reports the certificate's expiry for the metrics, under its path") {
    TlsFixture f;
    test::TempDir dir;
    ca::write_issued(dir.path(), "server", f.server_cert);
    test::write_file(dir / "ca.crt", f.authority.certificate_pem(), 0644);
    const std::string name = (dir / "server.crt").string();
    auto files = std::make_shared<TlsFiles>(
        TlsFileOptions{.cert = dir / "server.crt", .key = dir / "server.key", .ca = {dir / "ca.crt"}});
    auto reported = certificate_expiries();
    REQUIRE(reported.contains(name));
    auto now = std::chrono::system_clock::now();
    // authchain ca issues for 24 hours by default.
    CHECK(reported[name] > now + std::chrono::hours(23));
    CHECK(reported[name] < now + std::chrono::hours(25));

    ca::Issued longer = ca::issue(f.authority, server_leaf());
    ca::write_issued(dir.path(), "server", longer);
    files->reload();
    CHECK(certificate_expiries()[name] >= reported[name]);  // the last load wins
}
