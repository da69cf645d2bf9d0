#include <authchain/transport/detail/noise/x25519.hpp>

#include <authchain/compose/detail/sodium.hpp>
#include <authchain/transport/detail/noise/suite.hpp>

#include <algorithm>
#include <sodium.h>

namespace authchain::noise {

X25519Key::X25519Key(X25519Key&& other) noexcept : secret_(other.secret_), public_(other.public_) {
    sodium_memzero(other.secret_.data(), other.secret_.size());
}

X25519Key& X25519Key::operator=(X25519Key&& other) noexcept {
    if (this != &other) {
        secret_ = other.secret_;
        public_ = other.public_;
        sodium_memzero(other.secret_.data(), other.secret_.size());
    }
    return *this;
}

X25519Key::~X25519Key() { sodium_memzero(secret_.data(), secret_.size()); }

void X25519Key::derive_public() {
    // Fails only for a secret that clamps to zero, which clamping rules out.
    if (crypto_scalarmult_base(public_.data(), secret_.data()) != 0)
        throw NoiseError("X25519: deriving the public key failed");
}

X25519Key X25519Key::generate() {
    detail::sodium_ready();
    X25519Key key;
    randombytes_buf(key.secret_.data(), key.secret_.size());
    key.derive_public();
    return key;
}

X25519Key X25519Key::from_secret(ByteView secret) {
    if (secret.size() != size) throw NoiseError("an X25519 secret must be 32 bytes");
    detail::sodium_ready();
    X25519Key key;
    std::copy(secret.begin(), secret.end(), key.secret_.begin());
    key.derive_public();
    return key;
}

Botan::secure_vector<std::uint8_t> X25519Key::agree(ByteView peer_public) const {
    if (peer_public.size() != size) throw NoiseError("an X25519 public key must be 32 bytes");
    Botan::secure_vector<std::uint8_t> shared(size);
    // libsodium refuses an all-zero result (-1); the check below says so in
    // our words and does not depend on it.
    if (crypto_scalarmult(shared.data(), secret_.data(), peer_public.data()) != 0 ||
        sodium_is_zero(shared.data(), shared.size()))
        throw NoiseError("degenerate X25519 result (a low-order peer key)");
    return shared;
}

}  // namespace authchain::noise
