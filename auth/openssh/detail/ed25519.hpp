// Ed25519 signatures (RFC 8032, pure Ed25519) by libsodium rather than
// Botan: here (x86-64, one core) libsodium 1.0.18 signs in 17 µs and
// verifies in 48, Botan 2.19 in 35 and 122, OpenSSL 3.0's EVP in 36 and
// 107. A public-key handshake signs and verifies once per side (the host
// key and the client's key), so this is CPU per new connection (issue 11).
// Key files are still read and written by Botan (key_codec); only the
// signature arithmetic moves.
//
// libsodium is the stricter verifier: it also refuses a signature whose S
// is not below the group order L (a malleated copy of a valid one), an R or
// a public key of small order, and a non-canonical public key, where Botan
// and OpenSSH check only S's top three bits. An honest signer never makes
// any of these. test_ed25519 holds the RFC 8032 vectors and those cases.
#pragma once

#include <array>
#include <cstdint>

#include <authchain/compose/bytes.hpp>

namespace authchain::openssh::codec {

inline constexpr std::size_t ed25519_seed_bytes = 32;
inline constexpr std::size_t ed25519_public_bytes = 32;
inline constexpr std::size_t ed25519_private_bytes = 64;  // seed || public, as OpenSSH and libsodium store it
inline constexpr std::size_t ed25519_signature_bytes = 64;

// An Ed25519 secret key as libsodium signs with it (seed, then the public
// key derived from it: never one taken from a file). Cleared when destroyed.
class Ed25519Secret {
public:
    // Throws std::invalid_argument unless `seed` is 32 bytes.
    explicit Ed25519Secret(ByteView seed);
    ~Ed25519Secret();
    Ed25519Secret(const Ed25519Secret&) = delete;
    Ed25519Secret& operator=(const Ed25519Secret&) = delete;

    // The 32-byte public key.
    ByteView public_key() const noexcept;
    // R || S, deterministic (the same bytes Botan or OpenSSH would sign).
    std::array<std::uint8_t, ed25519_signature_bytes> sign(ByteView message) const;

private:
    std::array<std::uint8_t, ed25519_private_bytes> secret_{};
};

// True when `signature` (R || S, 64 bytes) is a valid Ed25519 signature of
// `message` under `public_key` (32 bytes). False on any other length, an
// invalid or small-order point, S not below L, or a failed check; never throws.
bool ed25519_verify(ByteView public_key, ByteView message, ByteView signature) noexcept;

}  // namespace authchain::openssh::codec
