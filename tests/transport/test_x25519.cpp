// X25519 by libcrypto (transport/detail/noise/x25519): the RFC 7748
// section 6.1 vectors (checked against Botan too, so a mistyped vector
// fails here rather than passing), both directions agreeing, fresh keys
// differing, and every low-order peer key refused (the all-zero result).
#include <doctest/doctest.h>

#include <authchain/transport/detail/noise/suite.hpp>
#include <authchain/transport/detail/noise/x25519.hpp>

#include <botan/curve25519.h>
#include <botan/hex.h>

#include <string>

using namespace authchain;
using namespace authchain::noise;

namespace {

Bytes hex(const char* text) { return Botan::hex_decode(std::string(text)); }
Bytes bytes(const std::array<std::uint8_t, X25519Key::size>& a) { return Bytes(a.begin(), a.end()); }
Bytes bytes(const Botan::secure_vector<std::uint8_t>& v) { return Bytes(v.begin(), v.end()); }

// RFC 7748 section 6.1.
const char* const alice_secret = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const char* const alice_public = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const char* const bob_secret = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const char* const bob_public = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const char* const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

}  // namespace

TEST_CASE("x25519: the RFC 7748 vectors, as Botan computes them too") {
    const X25519Key alice = X25519Key::from_secret(hex(alice_secret));
    const X25519Key bob = X25519Key::from_secret(hex(bob_secret));
    CHECK(bytes(alice.public_value()) == hex(alice_public));
    CHECK(bytes(bob.public_value()) == hex(bob_public));
    CHECK(bytes(alice.agree(hex(bob_public))) == hex(shared));
    CHECK(bytes(bob.agree(hex(alice_public))) == hex(shared));

    Botan::Curve25519_PrivateKey botan_alice(Botan::hex_decode_locked(std::string(alice_secret)));
    CHECK(botan_alice.public_value() == hex(alice_public));
    CHECK(bytes(botan_alice.agree(hex(bob_public).data(), 32)) == hex(shared));
}

TEST_CASE("x25519: fresh keys differ and agree both ways") {
    const X25519Key a = X25519Key::generate();
    const X25519Key b = X25519Key::generate();
    CHECK(a.public_value() != b.public_value());
    const auto ab = a.agree(b.public_value());
    CHECK(ab.size() == 32);
    CHECK(ab == b.agree(a.public_value()));
    // And Botan agrees with libcrypto's public key.
    Botan::Curve25519_PrivateKey c(Botan::hex_decode_locked(std::string(alice_secret)));
    CHECK(bytes(c.agree(a.public_value().data(), 32)) ==
          bytes(X25519Key::from_secret(hex(alice_secret)).agree(a.public_value())));
}

TEST_CASE("x25519: a low-order peer key is refused (all-zero result)") {
    // Points of order 1, 2, 4 and 8, and their non-canonical encodings
    // (x + p): each gives an all-zero shared secret with any secret.
    const char* const low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    const X25519Key mine = X25519Key::generate();
    Botan::Curve25519_PrivateKey botan(Botan::hex_decode_locked(std::string(bob_secret)));
    for (const char* point : low_order) {
        CAPTURE(point);
        // The vector is of low order: Botan, which does not refuse, gives all zeros.
        CHECK(bytes(botan.agree(hex(point).data(), 32)) == Bytes(32, 0));
        CHECK_THROWS_WITH_AS(mine.agree(hex(point)), doctest::Contains("degenerate X25519 result"), NoiseError);
    }
}

TEST_CASE("x25519: wrong lengths are refused") {
    const X25519Key mine = X25519Key::generate();
    CHECK_THROWS_AS(mine.agree(Bytes(31, 9)), NoiseError);
    CHECK_THROWS_AS(mine.agree(Bytes(33, 9)), NoiseError);
    CHECK_THROWS_AS(mine.agree({}), NoiseError);
    CHECK_THROWS_AS(X25519Key::from_secret(Bytes(31, 1)), NoiseError);
    CHECK_THROWS_AS(X25519Key::from_secret(Bytes(33, 1)), NoiseError);
}
