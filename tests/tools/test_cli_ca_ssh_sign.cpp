// authchain ca ssh-sign: OpenSSH certificates that ssh-keygen -L reads.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <authchain/auth/openssh/certificate.hpp>
#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"

namespace {

std::string binary() {
    const char* root = std::getenv("AUTHCHAIN_BUILD_ROOT");
    REQUIRE(root != nullptr);
    return std::string(root) + "/tools/authchain";
}

std::string arg(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

int cli(const std::string& args, std::string* out) {
    return authchain::test::shell(binary() + " " + args + " </dev/null 2>&1", out);
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("ca ssh-sign signs user and host certificates that ssh-keygen -L reads, 24 h by default" *
          doctest::skip(authchain::test::skip_missing({"ssh-keygen"}))) {
    authchain::test::require_tools({"ssh-keygen"});
    authchain::test::TempDir dir;
    std::string out;
    REQUIRE(cli("keygen -t ecdsa -b 384 -C ca -f " + arg(dir / "ca"), &out) == 0);
    REQUIRE(cli("keygen -C alice -f " + arg(dir / "id"), &out) == 0);
    REQUIRE_MESSAGE(cli("ca ssh-sign -s " + arg(dir / "ca") + " -I alice@corp -n alice,ops -z 9 -O source-address=10.0.0.0/8 " +
                            arg(dir / "id.pub"),
                        &out) == 0,
                    out);
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

    REQUIRE(cli("keygen -C host -f " + arg(dir / "host"), &out) == 0);
    REQUIRE(cli("ca ssh-sign -s " + arg(dir / "ca") + " -h -I gate -n gate.example -V 1h " + arg(dir / "host.pub"),
                &out) == 0);
    REQUIRE(authchain::test::shell("ssh-keygen -L -f " + arg(dir / "host-cert.pub"), &listing) == 0);
    CHECK(contains(listing, "host certificate"));
}

TEST_CASE("ca ssh-sign: errors exit 2 with the reason") {
    authchain::test::TempDir dir;
    std::string out;
    REQUIRE(cli("keygen -C ca -f " + arg(dir / "ca"), &out) == 0);
    CHECK(cli("ca ssh-sign -s " + arg(dir / "ca") + " -I x -n a " + arg(dir / "missing.pub"), &out) == 2);
    CHECK(contains(out, "missing.pub"));
    CHECK(cli("ca ssh-sign -s " + arg(dir / "ca") + " -I x -n a -V forever " + arg(dir / "ca.pub"), &out) == 2);
    CHECK(contains(out, "validity"));
    CHECK(cli("ca ssh-sign -s " + arg(dir / "ca") + " -I x -O permit-pty " + arg(dir / "ca.pub"), &out) == 2);
    CHECK(cli("ca", &out) == 2);
}
