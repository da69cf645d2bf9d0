// Two distinct Ed25519 public keys, made once per process, for the
// authorized_keys and known_hosts parser tests.
#pragma once

#include <authchain/auth/openssh/key.hpp>

namespace authchain::test {

inline const openssh::PublicKey& key_a() {
    static const openssh::PublicKey k = openssh::PrivateKey::generate_ed25519().public_key();
    return k;
}

inline const openssh::PublicKey& key_b() {
    static const openssh::PublicKey k = openssh::PrivateKey::generate_ed25519().public_key();
    return k;
}

}  // namespace authchain::test
