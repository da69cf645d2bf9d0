#include <authchain/transport/detail/noise/cipher_state.hpp>

#include <array>
#include <atomic>
#include <botan/mem_ops.h>
#include <climits>
#include <limits>
#include <openssl/evp.h>
#include <sodium.h>

#include <authchain/compose/detail/sodium.hpp>

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

const EVP_CIPHER* evp_cipher(Cipher cipher) {
    return cipher == Cipher::ChaChaPoly ? EVP_chacha20_poly1305() : EVP_aes_256_gcm();
}

// Every libcrypto call here returns 1 on success; anything else is a
// failure of the library (or of memory), never of the peer's data.
void check(int result, const char* what) {
    if (result != 1) throw NoiseError(std::string("AEAD (libcrypto): ") + what + " failed");
}

int int_size(std::size_t size) {
    if (size > static_cast<std::size_t>(INT_MAX)) throw NoiseError("AEAD input too large");
    return static_cast<int>(size);
}

// Records of up to small_record plaintext bytes are sealed and opened by
// libsodium, whose AEAD calls take the key itself: no context to key for the
// direction, no parameter parsing (30 bytes of AES-GCM: 0.33 against 0.70 µs
// with the shared EVP context keyed again for the direction, /work/rig
// aead2.cpp; callgrind counts 4,000 instructions per small record through
// EVP). Longer ones go through libcrypto, whose stitched AES-GCM and AVX-512
// ChaCha20 run about 3 times as fast in bulk; the two cross at 0.5 to 1 KiB.
// Both compute the same AEAD (AES-256-GCM of SP 800-38D, ChaCha20-Poly1305
// of RFC 8439), so either end may use either for any record.
// libsodium's AES-GCM needs AES-NI and PCLMULQDQ; without them every
// AES-GCM record goes through libcrypto.
constexpr std::size_t small_record = 512;

bool small(Cipher cipher, std::size_t plain) {
    static const bool aes_gcm = [] {
        authchain::detail::sodium_ready();
        return crypto_aead_aes256gcm_is_available() == 1;
    }();
    return plain <= small_record && (cipher == Cipher::ChaChaPoly || aes_gcm);
}

// Seals data[0, plain) in place, the tag after it, with libsodium.
void seal_small(Cipher cipher, const std::uint8_t* key, std::uint64_t nonce, ByteView ad,
                std::span<std::uint8_t> data, std::size_t plain) {
    const auto iv = encode_nonce(cipher, nonce);
    std::array<std::uint8_t, small_record> sealed;  // wiped: rekey() seals the next key
    unsigned long long tag_length = 0;
    const int result =
        cipher == Cipher::ChaChaPoly
            ? crypto_aead_chacha20poly1305_ietf_encrypt_detached(sealed.data(), data.data() + plain, &tag_length,
                                                                  data.data(), plain, ad.data(), ad.size(),
                                                                  nullptr, iv.data(), key)
            : crypto_aead_aes256gcm_encrypt_detached(sealed.data(), data.data() + plain, &tag_length, data.data(),
                                                     plain, ad.data(), ad.size(), nullptr, iv.data(), key);
    if (result != 0 || tag_length != TAGLEN) throw NoiseError("AEAD (libsodium): sealing failed");
    std::copy(sealed.begin(), sealed.begin() + static_cast<std::ptrdiff_t>(plain), data.begin());
    sodium_memzero(sealed.data(), plain);
}

// Opens data[0, plain) against the tag after it, in place, with libsodium:
// true when authentic (the plaintext is then in place).
bool open_small(Cipher cipher, const std::uint8_t* key, std::uint64_t nonce, ByteView ad,
                std::span<std::uint8_t> data, std::size_t plain) {
    const auto iv = encode_nonce(cipher, nonce);
    std::array<std::uint8_t, small_record> opened;
    const std::uint8_t* tag = data.data() + plain;
    const int result =
        cipher == Cipher::ChaChaPoly
            ? crypto_aead_chacha20poly1305_ietf_decrypt_detached(opened.data(), nullptr, data.data(), plain, tag,
                                                                  ad.data(), ad.size(), iv.data(), key)
            : crypto_aead_aes256gcm_decrypt_detached(opened.data(), nullptr, data.data(), plain, tag, ad.data(),
                                                     ad.size(), iv.data(), key);
    if (result == 0) std::copy(opened.begin(), opened.begin() + static_cast<std::ptrdiff_t>(plain), data.begin());
    sodium_memzero(opened.data(), opened.size());
    return result == 0;
}

// Starts a record on a keyed context: the nonce, then the associated data.
void start(EVP_CIPHER_CTX* ctx, Cipher cipher, std::uint64_t nonce, ByteView ad, int encrypt) {
    const auto iv = encode_nonce(cipher, nonce);
    check(EVP_CipherInit_ex(ctx, nullptr, nullptr, nullptr, iv.data(), encrypt), "setting the nonce");
    int out = 0;
    if (!ad.empty()) check(EVP_CipherUpdate(ctx, nullptr, &out, ad.data(), int_size(ad.size())), "associated data");
}

}  // namespace

void CipherState::EvpContextFree::operator()(evp_cipher_ctx_st* context) const noexcept {
    EVP_CIPHER_CTX_free(context);
}

CipherState::CipherState(Cipher cipher) : cipher_(cipher) {}

void CipherState::initialize_key(const Botan::secure_vector<std::uint8_t>& key) {
    if (!key.empty() && key.size() != KEYLEN) throw NoiseError("cipher key must be 32 bytes");
    // Ids, never addresses: a CipherState moves, and another may later live
    // where it was. A context keyed with the old key is keyed anew at next use.
    static std::atomic<std::uint64_t> next_key_id{1};
    key_ = key;
    key_id_ = next_key_id.fetch_add(1, std::memory_order_relaxed);
    nonce_ = 0;
}

void CipherState::share_context_with(CipherState& other) {
    if (!context_) context_ = std::make_shared<Context>();
    other.context_ = context_;
}

evp_cipher_ctx_st* CipherState::context(bool encrypt) {
    if (!context_) context_ = std::make_shared<Context>();
    Context& c = *context_;
    if (!c.evp) {
        EvpContext fresh(EVP_CIPHER_CTX_new());
        if (!fresh) throw NoiseError("AEAD (libcrypto): out of memory");
        check(EVP_CipherInit_ex(fresh.get(), evp_cipher(cipher_), nullptr, nullptr, nullptr, encrypt ? 1 : 0),
              "choosing the cipher");
        c.evp = std::move(fresh);
    }
    if (c.keyed_for != key_id_ || c.encrypting != encrypt) {
        c.keyed_for = 0;  // until keyed: a failure below leaves it unkeyed
        check(EVP_CipherInit_ex(c.evp.get(), nullptr, nullptr, key_.data(), nullptr, encrypt ? 1 : 0),
              "setting the key");
        c.keyed_for = key_id_;
        c.encrypting = encrypt;
    }
    return c.evp.get();
}

bool CipherState::through_ipsec_mb() const noexcept {
    return cipher_ == Cipher::AESGCM && ipsec_mb::available();
}

const ipsec_mb::Key& CipherState::gcm_key() {
    if (!context_) context_ = std::make_shared<Context>();
    Context& c = *context_;
    if (!c.gcm) c.gcm = std::make_unique<ipsec_mb::Key>();
    if (c.gcm_keyed_for != key_id_) {
        c.gcm_keyed_for = 0;
        c.gcm->set(std::span<const std::uint8_t, KEYLEN>(key_.data(), KEYLEN));
        c.gcm_keyed_for = key_id_;
    }
    return *c.gcm;
}

void CipherState::encrypt_with_ad(ByteView ad, Botan::secure_vector<std::uint8_t>& buffer,
                                  std::size_t offset) {
    if (!has_key()) return;
    if (offset > buffer.size()) throw NoiseError("encrypt: offset past the buffer");
    const std::size_t plain = buffer.size() - offset;
    buffer.resize(buffer.size() + TAGLEN);
    encrypt_with_ad(ad, std::span<std::uint8_t>(buffer.data() + offset, plain + TAGLEN));
}

void CipherState::encrypt_with_ad(ByteView ad, std::span<std::uint8_t> data) {
    if (!has_key()) return;
    if (data.size() < TAGLEN) throw NoiseError("encrypt: no room for the tag");
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    seal(nonce_, ad, data);
    ++nonce_;
}

void CipherState::encrypt_with_ad(ByteView ad, ByteView head, ByteView body, std::span<std::uint8_t> out) {
    const std::size_t plain = head.size() + body.size();
    if (out.size() != plain + (has_key() ? TAGLEN : 0)) throw NoiseError("encrypt: output of the wrong size");
    if (!has_key() || small(cipher_, plain)) {
        // A short record: gathered, then sealed in place (libsodium).
        std::copy(head.begin(), head.end(), out.begin());
        std::copy(body.begin(), body.end(), out.begin() + static_cast<std::ptrdiff_t>(head.size()));
        return encrypt_with_ad(ad, out);
    }
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    seal_long(nonce_, ad, head, body, out.data());
    ++nonce_;
}

void CipherState::seal(std::uint64_t nonce, ByteView ad, std::span<std::uint8_t> data) {
    const std::size_t plain = data.size() - TAGLEN;
    if (small(cipher_, plain)) return seal_small(cipher_, key_.data(), nonce, ad, data, plain);
    seal_long(nonce, ad, {}, ByteView(data.data(), plain), data.data());
}

void CipherState::seal_long(std::uint64_t nonce, ByteView ad, ByteView head, ByteView body, std::uint8_t* out) {
    if (through_ipsec_mb()) return gcm_key().seal(encode_nonce(cipher_, nonce), ad, head, body, out);
    const std::size_t plain = head.size() + body.size();
    auto* ctx = context(true);
    start(ctx, cipher_, nonce, ad, 1);
    int first = 0, second = 0, last = 0;
    if (!head.empty()) check(EVP_EncryptUpdate(ctx, out, &first, head.data(), int_size(head.size())), "encrypting");
    if (!body.empty())
        check(EVP_EncryptUpdate(ctx, out + first, &second, body.data(), int_size(body.size())), "encrypting");
    check(EVP_EncryptFinal_ex(ctx, out + first + second, &last), "finishing");
    if (static_cast<std::size_t>(first) + static_cast<std::size_t>(second) + static_cast<std::size_t>(last) != plain)
        throw NoiseError("AEAD (libcrypto): unexpected output length");
    check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, static_cast<int>(TAGLEN), out + plain), "reading the tag");
}

void CipherState::decrypt_with_ad(ByteView ad, Botan::secure_vector<std::uint8_t>& buffer,
                                  std::size_t offset) {
    if (!has_key()) return;
    if (offset > buffer.size() || buffer.size() - offset < TAGLEN)
        throw NoiseError("ciphertext shorter than its tag");
    const std::size_t plain =
        decrypt_with_ad(ad, std::span<std::uint8_t>(buffer.data() + offset, buffer.size() - offset));
    buffer.resize(offset + plain);
}

std::size_t CipherState::decrypt_with_ad(ByteView ad, std::span<std::uint8_t> data) {
    if (!has_key()) return data.size();
    if (data.size() < TAGLEN) throw NoiseError("ciphertext shorter than its tag");
    if (nonce_ == reserved_nonce) throw NoiseError("nonce exhausted");
    bool authentic = false;
    try {
        authentic = open(ad, data);
    } catch (...) {
        Botan::secure_scrub_memory(data.data(), data.size());
        throw;
    }
    if (!authentic) {
        Botan::secure_scrub_memory(data.data(), data.size());
        throw NoiseError("authentication tag mismatch");
    }
    ++nonce_;
    return data.size() - TAGLEN;
}

bool CipherState::open(ByteView ad, std::span<std::uint8_t> data) {
    const std::size_t plain = data.size() - TAGLEN;
    if (small(cipher_, plain)) return open_small(cipher_, key_.data(), nonce_, ad, data, plain);
    if (through_ipsec_mb()) return gcm_key().open(encode_nonce(cipher_, nonce_), ad, data);
    // The tag is copied out first: decryption overwrites the range.
    std::array<std::uint8_t, TAGLEN> tag{};
    std::copy(data.begin() + static_cast<std::ptrdiff_t>(plain), data.end(), tag.begin());
    auto* ctx = context(false);
    start(ctx, cipher_, nonce_, ad, 0);
    int out = 0, last = 0;
    if (plain > 0) check(EVP_DecryptUpdate(ctx, data.data(), &out, data.data(), int_size(plain)), "decrypting");
    check(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, static_cast<int>(TAGLEN), tag.data()), "setting the tag");
    return EVP_DecryptFinal_ex(ctx, data.data() + out, &last) == 1 &&
           static_cast<std::size_t>(out) + static_cast<std::size_t>(last) == plain;
}

void CipherState::rekey() {
    if (!has_key()) throw NoiseError("rekey without a key");
    Botan::secure_vector<std::uint8_t> block(KEYLEN + TAGLEN, 0);
    seal(reserved_nonce, {}, block);  // the tag after the first KEYLEN bytes is dropped
    block.resize(KEYLEN);
    const std::uint64_t nonce = nonce_;
    initialize_key(block);
    nonce_ = nonce;
}

}  // namespace authchain::noise
