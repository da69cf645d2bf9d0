// SymmetricState (Noise revision 34, section 5.2): the chaining key ck,
// the handshake hash h and a CipherState, for one suite.
#pragma once

#include <botan/hash.h>
#include <botan/mac.h>
#include <botan/secmem.h>
#include <memory>
#include <string_view>
#include <utility>

#include <authchain/compose/bytes.hpp>
#include <authchain/transport/detail/noise/cipher_state.hpp>
#include <authchain/transport/detail/noise/suite.hpp>

namespace authchain::noise {

class SymmetricState {
public:
    // InitializeSymmetric(protocol_name): h = protocol_name padded with
    // zeros to HASHLEN if it fits, else HASH(protocol_name); ck = h; no key.
    SymmetricState(Suite suite, std::string_view protocol_name);

    // MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k[:32]).
    void mix_key(ByteView input_key_material);
    // MixHash(data): h = HASH(h || data).
    void mix_hash(ByteView data);
    // MixKeyAndHash(ikm): ck, temp_h, temp_k = HKDF(ck, ikm, 3);
    // MixHash(temp_h); InitializeKey(temp_k[:32]).
    void mix_key_and_hash(ByteView input_key_material);
    // GetHandshakeHash(): h (HASHLEN bytes).
    const Bytes& handshake_hash() const noexcept { return h_; }
    // EncryptAndHash(plaintext): ciphertext = EncryptWithAd(h, plaintext);
    // MixHash(ciphertext). Appends the ciphertext to `out`.
    void encrypt_and_hash(ByteView plaintext, Bytes& out);
    // DecryptAndHash(ciphertext): plaintext = DecryptWithAd(h, ciphertext);
    // MixHash(ciphertext). Throws NoiseError on a bad tag.
    Botan::secure_vector<std::uint8_t> decrypt_and_hash(ByteView ciphertext);
    // Split(): the two CipherStates (initiator-to-responder first).
    std::pair<CipherState, CipherState> split();

    bool has_key() const noexcept { return cipher_state_.has_key(); }

private:
    // HKDF(ck, ikm, n) as the spec defines it with HMAC-HASH; n is 2 or 3.
    std::array<Botan::secure_vector<std::uint8_t>, 3> hkdf(ByteView input_key_material, int outputs);

    Suite suite_;
    std::unique_ptr<Botan::HashFunction> hash_;
    std::unique_ptr<Botan::MessageAuthenticationCode> hmac_;
    CipherState cipher_state_;
    Botan::secure_vector<std::uint8_t> chaining_key_;
    Bytes h_;
};

}  // namespace authchain::noise
