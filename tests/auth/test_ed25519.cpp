// Ed25519 by libsodium (auth/openssh/detail/ed25519): the RFC 8032 section
// 7.1 vectors (checked against Botan's signer too, so a mistyped vector
// fails here rather than passing), every single-bit forgery, bad lengths,
// and where libsodium is stricter than Botan and OpenSSH: S not reduced
// below the group order, keys and R of small order.
#include <doctest/doctest.h>

#include <authchain/auth/openssh/detail/ed25519.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/auth/openssh/key.hpp>

#include <botan/ed25519.h>
#include <botan/hex.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>

#include <array>
#include <string>

using namespace authchain;
using authchain::openssh::codec::Ed25519Secret;
using authchain::openssh::codec::ed25519_verify;

namespace {

struct Vector {
    const char* secret;
    const char* public_key;
    const char* message;
    const char* signature;
};

// RFC 8032 section 7.1, TEST 1, 2 and 3.
constexpr std::array<Vector, 3> rfc8032 = {{
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
}};

Bytes hex(const char* text) { return Botan::hex_decode(std::string(text)); }

// The group order L, little-endian (RFC 8032 section 5.1).
constexpr std::array<std::uint8_t, 32> group_order = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// R || (S + L): the same point equation holds, so only a check that S < L refuses it.
Bytes with_s_plus_order(const Bytes& signature) {
    Bytes out = signature;
    unsigned carry = 0;
    for (std::size_t i = 0; i < 32; ++i) {
        carry += out[32 + i] + group_order[i];
        out[32 + i] = static_cast<std::uint8_t>(carry);
        carry >>= 8;
    }
    REQUIRE(carry == 0);
    return out;
}

bool botan_verifies(const Bytes& public_key, const Bytes& message, const Bytes& signature) {
    Botan::Ed25519_PublicKey key(public_key.data(), public_key.size());
    Botan::PK_Verifier verifier(key, "Pure");
    return verifier.verify_message(message.data(), message.size(), signature.data(), signature.size());
}

}  // namespace

TEST_CASE("ed25519: the RFC 8032 vectors sign and verify, and Botan signs them the same") {
    for (const Vector& v : rfc8032) {
        CAPTURE(v.public_key);
        const Bytes public_key = hex(v.public_key), message = hex(v.message), signature = hex(v.signature);
        // The vectors themselves, through Botan: the public key from the secret, the signature.
        Botan::Ed25519_PrivateKey botan_key(Botan::hex_decode_locked(std::string(v.secret)));
        CHECK(botan_key.get_public_key() == public_key);
        Botan::PK_Signer signer(botan_key, Botan::system_rng(), "Pure");
        CHECK(signer.sign_message(message, Botan::system_rng()) == signature);

        const Ed25519Secret secret(hex(v.secret));
        CHECK(Bytes(secret.public_key().begin(), secret.public_key().end()) == public_key);
        const auto signed_here = secret.sign(message);
        CHECK(Bytes(signed_here.begin(), signed_here.end()) == signature);
        CHECK(ed25519_verify(public_key, message, signature));
    }
    CHECK_THROWS_AS(Ed25519Secret(Bytes(31, 1)), std::invalid_argument);
    CHECK_THROWS_AS(Ed25519Secret(Bytes(64, 1)), std::invalid_argument);
}

TEST_CASE("ed25519_verify: every single-bit change to key, message or signature is refused") {
    const Vector& v = rfc8032[2];
    const Bytes public_key = hex(v.public_key), message = hex(v.message), signature = hex(v.signature);
    for (std::size_t bit = 0; bit < signature.size() * 8; ++bit) {
        Bytes forged = signature;
        forged[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        CAPTURE(bit);
        CHECK_FALSE(ed25519_verify(public_key, message, forged));
    }
    for (std::size_t bit = 0; bit < message.size() * 8; ++bit) {
        Bytes other = message;
        other[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        CHECK_FALSE(ed25519_verify(public_key, other, signature));
    }
    for (std::size_t bit = 0; bit < public_key.size() * 8; ++bit) {
        Bytes other = public_key;
        other[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
        CAPTURE(bit);
        CHECK_FALSE(ed25519_verify(other, message, signature));
    }
    // Another vector's signature, and the empty message against a signature of "af82".
    CHECK_FALSE(ed25519_verify(public_key, message, hex(rfc8032[1].signature)));
    CHECK_FALSE(ed25519_verify(public_key, Bytes{}, signature));
}

TEST_CASE("ed25519_verify: wrong lengths are refused, never read past") {
    const Vector& v = rfc8032[1];
    const Bytes public_key = hex(v.public_key), message = hex(v.message), signature = hex(v.signature);
    CHECK_FALSE(ed25519_verify(ByteView(public_key).first(31), message, signature));
    Bytes long_key = public_key;
    long_key.push_back(0);
    CHECK_FALSE(ed25519_verify(long_key, message, signature));
    CHECK_FALSE(ed25519_verify(public_key, message, ByteView(signature).first(63)));
    Bytes longer = signature;
    longer.push_back(0);
    CHECK_FALSE(ed25519_verify(public_key, message, longer));
    CHECK_FALSE(ed25519_verify({}, message, signature));
    CHECK_FALSE(ed25519_verify(public_key, message, {}));
    // The all-zero key and signature.
    CHECK_FALSE(ed25519_verify(Bytes(32, 0), message, Bytes(64, 0)));
}

TEST_CASE("ed25519_verify: a malleated S (S + L) is refused, though Botan accepts it") {
    for (const Vector& v : rfc8032) {
        CAPTURE(v.public_key);
        const Bytes public_key = hex(v.public_key), message = hex(v.message);
        const Bytes malleated = with_s_plus_order(hex(v.signature));
        // Botan (like OpenSSH) checks only S's top three bits: the copy passes there.
        CHECK(botan_verifies(public_key, message, malleated));
        CHECK_FALSE(ed25519_verify(public_key, message, malleated));
    }
}

TEST_CASE("ed25519_verify: the identity as public key or R is refused, though Botan accepts it") {
    // With the identity (order 1) as the key A and as R, S = 0 satisfies
    // [S]B = R + [k]A for every message: a "signature" anyone can make.
    const Bytes identity = hex("0100000000000000000000000000000000000000000000000000000000000000");
    Bytes forged = identity;
    forged.resize(64, 0);
    for (const Bytes& message : {Bytes{}, Bytes{'m'}, hex(rfc8032[2].message)}) {
        CHECK(botan_verifies(identity, message, forged));
        CHECK_FALSE(ed25519_verify(identity, message, forged));
    }
    // R of small order under a real key.
    CHECK_FALSE(ed25519_verify(hex(rfc8032[0].public_key), Bytes{}, forged));
}

TEST_CASE("PublicKey::verify (ssh-ed25519): libsodium behind the SSH signature blob") {
    using namespace authchain::openssh;
    const PrivateKey key = PrivateKey::generate_ed25519();
    const Bytes message{'c', 'h', 'a', 'n', 'n', 'e', 'l'};
    const Bytes blob = key.sign(message);
    CHECK(key.public_key().verify(message, blob));
    CHECK_FALSE(PrivateKey::generate_ed25519().public_key().verify(message, blob));
    // The same 64 bytes under another algorithm name, with trailing bytes, or cut short.
    WireReader in(blob);
    in.text();
    const ByteView raw = in.string();
    WireWriter renamed;
    renamed.string(std::string_view("ssh-ed448")).string(raw);
    CHECK_FALSE(key.public_key().verify(message, renamed.bytes()));
    Bytes trailing = blob;
    trailing.push_back(0);
    CHECK_FALSE(key.public_key().verify(message, trailing));
    CHECK_FALSE(key.public_key().verify(message, ByteView(blob).first(blob.size() - 1)));
    // And the malleated copy of a real signature.
    WireWriter malleated;
    malleated.string(std::string_view("ssh-ed25519")).string(with_s_plus_order(Bytes(raw.begin(), raw.end())));
    CHECK_FALSE(key.public_key().verify(message, malleated.bytes()));
}
