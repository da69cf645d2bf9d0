#include <authchain/auth/openssh/detail/ed25519.hpp>

#include <authchain/compose/detail/sodium.hpp>

#include <sodium.h>
#include <stdexcept>

namespace authchain::openssh::codec {

static_assert(crypto_sign_SECRETKEYBYTES == ed25519_private_bytes && crypto_sign_BYTES == ed25519_signature_bytes &&
              crypto_sign_SEEDBYTES == ed25519_seed_bytes && crypto_sign_PUBLICKEYBYTES == ed25519_public_bytes);

Ed25519Secret::Ed25519Secret(ByteView seed) {
    if (seed.size() != ed25519_seed_bytes) throw std::invalid_argument("an Ed25519 seed must be 32 bytes");
    detail::sodium_ready();
    std::array<std::uint8_t, crypto_sign_PUBLICKEYBYTES> public_key{};
    if (crypto_sign_seed_keypair(public_key.data(), secret_.data(), seed.data()) != 0)
        throw std::runtime_error("libsodium: deriving an Ed25519 key failed");
}

Ed25519Secret::~Ed25519Secret() { sodium_memzero(secret_.data(), secret_.size()); }

ByteView Ed25519Secret::public_key() const noexcept { return ByteView(secret_).subspan(ed25519_seed_bytes); }

std::array<std::uint8_t, ed25519_signature_bytes> Ed25519Secret::sign(ByteView message) const {
    std::array<std::uint8_t, ed25519_signature_bytes> signature{};
    if (crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(), secret_.data()) != 0)
        throw std::runtime_error("libsodium: Ed25519 signing failed");
    return signature;
}

bool ed25519_verify(ByteView public_key, ByteView message, ByteView signature) noexcept {
    if (public_key.size() != ed25519_public_bytes || signature.size() != ed25519_signature_bytes) return false;
    try {
        detail::sodium_ready();
    } catch (const std::exception&) {
        return false;
    }
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(), public_key.data()) == 0;
}

}  // namespace authchain::openssh::codec
