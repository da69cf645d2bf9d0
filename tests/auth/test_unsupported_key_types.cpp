// Key types OpenSSH knows and authchain does not read (DSA, security keys):
// every message names the type and says it is unsupported, never "not a
// public key file". And the new ECDSA curves round-trip.
#include <authchain/auth/openssh/authorized_keys.hpp>
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/openssh/known_hosts.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>
#include "tests/support/run.hpp"

#include <botan/base64.h>
#include <doctest/doctest.h>

using namespace authchain;
using namespace authchain::openssh;

namespace {

std::string line_of(const std::string& type) {
    WireWriter w;
    w.string(type).string(std::string(32, 'x')).string(std::string("ssh:"));
    return type + " " + Botan::base64_encode(w.data()) + " someone";
}

}  // namespace

TEST_CASE("unsupported key types are named, never 'not a public key file'") {
    test::TempDir dir;
    for (std::string type : {"ssh-dss", "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com"}) {
        CAPTURE(type);
        const auto pub = dir / "k.pub";
        test::write_file(pub, line_of(type) + "\n");
        std::string message;
        try {
            fingerprint_line(pub);
        } catch (const std::exception& e) {
            message = e.what();
        }
        CHECK(message.find("'" + type + "' is not supported") != std::string::npos);
        CHECK(message.find("not a public key file") == std::string::npos);

        auto ak = parse_authorized_keys(line_of(type) + "\n", "ak");
        REQUIRE(ak.warnings.size() == 1);
        CHECK(ak.warnings[0].find("'" + type + "' is not supported") != std::string::npos);
        auto kh = parse_known_hosts("h " + line_of(type) + "\n", "kh");
        REQUIRE(kh.warnings.size() == 1);
        CHECK(kh.warnings[0].find("is not supported") != std::string::npos);
    }
}

TEST_CASE("ECDSA P-384 and P-521: generate, write, read, sign, verify; sizes and labels as ssh-keygen") {
    for (std::size_t bits : {256u, 384u, 521u}) {
        CAPTURE(bits);
        PrivateKey key = PrivateKey::generate_ecdsa(bits);
        const PublicKey pub = key.public_key();
        CHECK(pub.type() == "ecdsa-sha2-nistp" + std::to_string(bits));
        CHECK(pub.bits() == bits);
        CHECK(pub.type_label() == "ECDSA");
        const Bytes msg{1, 2, 3};
        CHECK(pub.verify(msg, key.sign(msg)));
        CHECK_FALSE(pub.verify(Bytes{1, 2, 4}, key.sign(msg)));
        PrivateKey back = PrivateKey::parse(key.to_openssh("c", "pass"), "pass");
        CHECK(back.public_key() == pub);
        CHECK(PublicKey::from_blob(pub.blob()) == pub);
    }
    CHECK_THROWS_AS(PrivateKey::generate_ecdsa(512), std::invalid_argument);
    // A signature of one curve's type does not verify under another curve's key.
    PrivateKey p384 = PrivateKey::generate_ecdsa(384), p521 = PrivateKey::generate_ecdsa(521);
    CHECK_FALSE(p521.public_key().verify(Bytes{1}, p384.sign(Bytes{1})));
}
