// X25519 (RFC 7748) for the Noise handshake's ephemeral keys, computed by
// libsodium rather than Botan: here (x86-64, one core) libsodium 1.0.18
// makes a key pair in 28 µs and agrees in 30, Botan 2.19 in 56 and 44, and
// OpenSSL 3.0's EVP in 39 and 37. A handshake does one of each per side, so
// a new connection costs about 85 µs less CPU for both ends (issue 11).
// test_x25519 holds the RFC 7748 vectors; test_noise_vectors the Noise ones.
#pragma once

#include <array>
#include <botan/secmem.h>
#include <cstdint>

#include <authchain/compose/bytes.hpp>

namespace authchain::noise {

class X25519Key {
public:
    static constexpr std::size_t size = 32;

    // A fresh key pair from the kernel's random source (getrandom).
    static X25519Key generate();
    // The key pair of a given 32-byte secret (clamped as RFC 7748 says):
    // for test vectors. Throws NoiseError on another length.
    static X25519Key from_secret(ByteView secret);

    X25519Key(const X25519Key&) = delete;
    X25519Key& operator=(const X25519Key&) = delete;
    X25519Key(X25519Key&& other) noexcept;
    X25519Key& operator=(X25519Key&& other) noexcept;
    ~X25519Key();  // clears the secret

    const std::array<std::uint8_t, size>& public_value() const noexcept { return public_; }

    // X25519(our secret, peer_public). Throws NoiseError when the peer's key
    // is not 32 bytes or the result is all zero (a low-order peer key: Noise
    // section 12.1 lets an implementation refuse it, and this one does).
    Botan::secure_vector<std::uint8_t> agree(ByteView peer_public) const;

private:
    X25519Key() = default;
    void derive_public();

    std::array<std::uint8_t, size> secret_{};
    std::array<std::uint8_t, size> public_{};
};

}  // namespace authchain::noise
