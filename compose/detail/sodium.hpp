// libsodium: the Ed25519 and X25519 of the handshakes and the AEAD of short
// records (why: transport/detail/noise/cipher_state.hpp,
// transport/detail/noise/x25519.hpp, auth/openssh/detail/ed25519.hpp).
#pragma once

namespace authchain::detail {

// Initializes libsodium once per process (thread-safe; later calls cost a
// load). Throws std::runtime_error when it cannot (no usable random source).
void sodium_ready();

}  // namespace authchain::detail
