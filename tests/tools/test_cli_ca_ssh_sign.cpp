// authchain ca ssh-sign: OpenSSH certificates that ssh-keygen -L reads.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <authchain/auth/openssh/certificate.hpp>
#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"
#include "tests/tools/cli_support.hpp"

namespace {

using namespace authchain::test::cli_support;

}  // namespace

TEST_CASE("ca ssh-sign signs user and host certificates that ssh-keygen -L reads, 24 h by default" *
          doctest::skip(authchain::test::skip_without_ssh_keygen())) {
    authchain::test::require_ssh_keygen();
    authchain::test::TempDir dir;
    REQUIRE(cli("keygen -t ecdsa -b 384 -C ca -f " + arg(dir / "ca")).status == 0);
    REQUIRE(cli("keygen -C alice -f " + arg(dir / "id")).status == 0);
    auto user = cli("ca ssh-sign -s " + arg(dir / "ca") + " -I alice@corp -n alice,ops -z 9 -O source-address=10.0.0.0/8 " +
                    arg(dir / "id.pub"));
    REQUIRE_MESSAGE(user.status == 0, user.output);
    const auto cert_path = dir / "id-cert.pub";
    REQUIRE(std::filesystem::exists(cert_path));
    auto cert = authchain::openssh::Certificate::from_line(authchain::test::read_file(cert_path));
    CHECK(cert.valid_before() - cert.valid_after() == 24 * 3600 + 60);
    CHECK(cert.verify_signature());
    std::string listing;
    REQUIRE(authchain::test::shell("ssh-keygen -L -f " + arg(cert_path), &listing) == 0);
    CHECK(contains(listing, "user certificate"));
    CHECK(contains(listing, "Key ID: \"alice@corp\""));
    CHECK(contains(listing, "Serial: 9"));
    CHECK(contains(listing, "source-address 10.0.0.0/8"));

    REQUIRE(cli("keygen -C host -f " + arg(dir / "host")).status == 0);
    REQUIRE(cli("ca ssh-sign -s " + arg(dir / "ca") + " -h -I gate -n gate.example -V 1h " + arg(dir / "host.pub"))
                .status == 0);
    REQUIRE(authchain::test::shell("ssh-keygen -L -f " + arg(dir / "host-cert.pub"), &listing) == 0);
    CHECK(contains(listing, "host certificate"));
}

TEST_CASE("ca ssh-sign: errors exit 2 with the reason") {
    authchain::test::TempDir dir;
    REQUIRE(cli("keygen -C ca -f " + arg(dir / "ca")).status == 0);
    auto missing = cli("ca ssh-sign -s " + arg(dir / "ca") + " -I x -n a " + arg(dir / "missing.pub"));
    CHECK(missing.status == 2);
    CHECK(contains(missing.output, "missing.pub"));
    auto forever = cli("ca ssh-sign -s " + arg(dir / "ca") + " -I x -n a -V forever " + arg(dir / "ca.pub"));
    CHECK(forever.status == 2);
    CHECK(contains(forever.output, "validity"));
    CHECK(cli("ca ssh-sign -s " + arg(dir / "ca") + " -I x -O permit-pty " + arg(dir / "ca.pub")).status == 2);
    CHECK(cli("ca").status == 2);
}
