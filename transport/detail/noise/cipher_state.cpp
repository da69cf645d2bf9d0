#include <authchain/transport/detail/noise/cipher_state.hpp>

#include <array>
#include <botan/exceptn.h>
#include <botan/mem_ops.h>
#include <limits>

namespace authchain::noise {

namespace {

constexpr std::uint64_t reserved_nonce = std::numeric_limits<std::uint64_t>::max();

// 32 zero bits, then the 64-bit counter: little-endian for ChaChaPoly,
// big-endian for AESGCM (spec sections 12.3 and 12.4).
std::array<std::uint8_t, 12> encode_nonce(Cipher cipher, std::uint64_t n) {
    std::array<std::uint8_t, 12> out{};
    for (int i = 0; i < 8; ++i) {
        auto byte = static_cast<std::uint8_t>(n >> (8 * i));
        if (cipher == Cipher::ChaChaPoly)
            out[4 + i] = byte;
        else
            out[11 - i] = byte;
    }
    return out;
}

std::unique_ptr<Botan::AEAD_Mode> make_mode(Cipher cipher, Botan::Cipher_Dir dir) {
    return Botan::AEAD_Mode::create_or_throw(std::string(botan_aead_name(cipher)), dir);
}

}  // namespace

CipherState::CipherState(Cipher cipher) : cipher_(cipher) {}

void CipherState::initialize_key(const Botan::secure_vector<std::uint8_t>& key) {
    if (!key.empty() && key.size() != KEYLEN) throw NoiseError("cipher key must be 32 bytes");
    key_ = key;
    nonce_ = 0;
    if (key_.empty()) return;
    if (encryptor_) encryptor_->set_key(key_);
    if (decryptor_) decryptor_->set_key(key_);
}

Botan::AEAD_Mode& CipherState::encryptor() {
    if (!encryptor_) {
        encryptor_ = make_mode(cipher_, Botan::ENCRYPTION);
        encryptor_->set_key(key_);
    }
    return *encryptor_;
}

Botan::AEAD_Mode& CipherState::decryptor() {
    if (!decryptor_) {
        decryptor_ = make_mode(cipher_, Botan::DECRYPTION);
        decryptor_->set_key(key_);
    }
    return *decryptor_;
}

void CipherState::start(Botan::AEAD_Mode& mode, std::uint64_t nonce, ByteView ad) const {
    const auto iv = encode_nonce(cipher_, nonce);
    mode.set_associated_data(ad.data(), ad.size());
    mode.start(iv.data(), iv.size());
}

void CipherState::encrypt_with_ad(ByteView ad, Botan::secure_vector<std::uint8_t>& buffer,
                                  std::size_t offset) {
    if (!has_key()) return;
    if (offset > buffer.size()) throw NoiseError("encrypt: offset past the buffer");
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    auto& mode = encryptor();
    start(mode, nonce_, ad);
    mode.finish(buffer, offset);
    ++nonce_;
}

void CipherState::encrypt_with_ad(ByteView ad, std::span<std::uint8_t> data) {
    if (!has_key()) return;
    if (data.size() < TAGLEN) throw NoiseError("encrypt: no room for the tag");
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    auto& mode = encryptor();
    const std::size_t plain = data.size() - TAGLEN;
    // Whole update blocks are encrypted where they lie; finish() takes the
    // rest (Botan's finish needs a secure_vector) and appends the tag.
    const std::size_t granularity = mode.update_granularity();
    const std::size_t bulk = granularity > 0 ? plain / granularity * granularity : 0;
    start(mode, nonce_, ad);
    if (bulk > 0 && mode.process(data.data(), bulk) != bulk) throw NoiseError("unexpected AEAD behaviour");
    tail_.assign(data.begin() + static_cast<std::ptrdiff_t>(bulk), data.begin() + static_cast<std::ptrdiff_t>(plain));
    mode.finish(tail_, 0);
    if (tail_.size() != data.size() - bulk) throw NoiseError("unexpected AEAD behaviour");
    std::copy(tail_.begin(), tail_.end(), data.begin() + static_cast<std::ptrdiff_t>(bulk));
    ++nonce_;
}

void CipherState::decrypt_with_ad(ByteView ad, Botan::secure_vector<std::uint8_t>& buffer,
                                  std::size_t offset) {
    if (!has_key()) return;
    if (offset > buffer.size() || buffer.size() - offset < TAGLEN)
        throw NoiseError("ciphertext shorter than its tag");
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    auto& mode = decryptor();
    try {
        start(mode, nonce_, ad);
        mode.finish(buffer, offset);
    } catch (const Botan::Exception&) {
        Botan::secure_scrub_memory(buffer.data() + offset, buffer.size() - offset);
        throw NoiseError("authentication tag mismatch");
    }
    ++nonce_;
}

std::size_t CipherState::decrypt_with_ad(ByteView ad, std::span<std::uint8_t> data) {
    if (!has_key()) return data.size();
    if (data.size() < TAGLEN) throw NoiseError("ciphertext shorter than its tag");
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    auto& mode = decryptor();
    const std::size_t plain = data.size() - TAGLEN;
    // Whole update blocks are decrypted where they lie; finish() takes the
    // rest and the tag (Botan's finish needs a secure_vector) and checks it.
    const std::size_t granularity = mode.update_granularity();
    const std::size_t bulk = granularity > 0 ? plain / granularity * granularity : 0;
    try {
        start(mode, nonce_, ad);
        if (bulk > 0 && mode.process(data.data(), bulk) != bulk) throw NoiseError("unexpected AEAD behaviour");
        tail_.assign(data.begin() + static_cast<std::ptrdiff_t>(bulk), data.end());
        mode.finish(tail_, 0);
    } catch (const Botan::Exception&) {
        Botan::secure_scrub_memory(data.data(), data.size());
        Botan::secure_scrub_memory(tail_.data(), tail_.size());
        throw NoiseError("authentication tag mismatch");
    }
    std::copy(tail_.begin(), tail_.end(), data.begin() + static_cast<std::ptrdiff_t>(bulk));
    ++nonce_;
    return plain;
}

void CipherState::rekey() {
    if (!has_key()) throw NoiseError("rekey without a key");
    Botan::secure_vector<std::uint8_t> block(KEYLEN, 0);
    auto& mode = encryptor();
    start(mode, reserved_nonce, {});
    mode.finish(block, 0);
    block.resize(KEYLEN);
    key_ = std::move(block);
    encryptor_->set_key(key_);
    if (decryptor_) decryptor_->set_key(key_);
}

}  // namespace authchain::noise
