#include <authchain/transport/detail/noise/symmetric_state.hpp>

#include <array>

namespace authchain::noise {

SymmetricState::SymmetricState(Suite suite, std::string_view protocol_name)
    : suite_(suite),
      hash_(Botan::HashFunction::create_or_throw(std::string(botan_hash_name(suite.hash)))),
      hmac_(Botan::MessageAuthenticationCode::create_or_throw(
          "HMAC(" + std::string(botan_hash_name(suite.hash)) + ")")),
      cipher_state_(suite.cipher) {
    const std::size_t hashlen = hash_length(suite.hash);
    if (protocol_name.size() <= hashlen) {
        h_.assign(protocol_name.begin(), protocol_name.end());
        h_.resize(hashlen, 0);
    } else {
        hash_->update(as_bytes(protocol_name).data(), protocol_name.size());
        h_.resize(hashlen);
        hash_->final(h_.data());
    }
    chaining_key_.assign(h_.begin(), h_.end());
}

std::array<Botan::secure_vector<std::uint8_t>, 3> SymmetricState::hkdf(ByteView ikm, int outputs) {
    // temp_key = HMAC(ck, ikm); output_i = HMAC(temp_key, output_{i-1} || byte(i)).
    hmac_->set_key(chaining_key_);
    hmac_->update(ikm.data(), ikm.size());
    Botan::secure_vector<std::uint8_t> temp_key = hmac_->final();
    hmac_->set_key(temp_key);
    std::array<Botan::secure_vector<std::uint8_t>, 3> out;
    for (int i = 0; i < outputs; ++i) {
        if (i > 0) hmac_->update(out[static_cast<std::size_t>(i - 1)]);
        hmac_->update(static_cast<std::uint8_t>(i + 1));
        out[static_cast<std::size_t>(i)] = hmac_->final();
    }
    return out;
}

void SymmetricState::mix_key(ByteView ikm) {
    auto out = hkdf(ikm, 2);
    chaining_key_ = std::move(out[0]);
    out[1].resize(KEYLEN);
    cipher_state_.initialize_key(out[1]);
}

void SymmetricState::mix_hash(ByteView data) {
    hash_->update(h_.data(), h_.size());
    hash_->update(data.data(), data.size());
    hash_->final(h_.data());
}

void SymmetricState::mix_key_and_hash(ByteView ikm) {
    auto out = hkdf(ikm, 3);
    chaining_key_ = std::move(out[0]);
    mix_hash(out[1]);
    out[2].resize(KEYLEN);
    cipher_state_.initialize_key(out[2]);
}

void SymmetricState::encrypt_and_hash(ByteView plaintext, Bytes& out) {
    Botan::secure_vector<std::uint8_t> buffer(plaintext.begin(), plaintext.end());
    cipher_state_.encrypt_with_ad(h_, buffer);
    mix_hash(buffer);
    out.insert(out.end(), buffer.begin(), buffer.end());
}

Botan::secure_vector<std::uint8_t> SymmetricState::decrypt_and_hash(ByteView ciphertext) {
    Botan::secure_vector<std::uint8_t> buffer(ciphertext.begin(), ciphertext.end());
    cipher_state_.decrypt_with_ad(h_, buffer);
    mix_hash(ciphertext);
    return buffer;
}

std::pair<CipherState, CipherState> SymmetricState::split() {
    auto out = hkdf({}, 2);
    CipherState c1(suite_.cipher), c2(suite_.cipher);
    out[0].resize(KEYLEN);
    out[1].resize(KEYLEN);
    c1.initialize_key(out[0]);
    c2.initialize_key(out[1]);
    c1.share_context_with(c2);  // one channel: one EVP context for both directions
    return {std::move(c1), std::move(c2)};
}

}  // namespace authchain::noise
