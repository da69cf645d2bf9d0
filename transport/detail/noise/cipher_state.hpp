// CipherState (Noise revision 34, section 5.1): a key k and a nonce n.
//
// Encryption is in place on a caller-owned buffer so the record layer can
// reuse one buffer per direction (no per-record allocation).
//
// Vetted AEAD implementations, chosen by record size and CPU; all compute
// the same AEAD, so the peer may use any of them for any record:
// - up to 512 bytes of plaintext (requests, small replies, control records,
//   handshake payloads): libsodium, whose calls take the key itself, with no
//   context to key and no parameter parsing; a small record costs about
//   half of what it costs through EVP;
// - longer, AES-GCM on a CPU with AVX-512 and VAES: Intel's ipsec-mb
//   (aes_gcm_ipsec_mb.hpp), about 4 times as fast as libcrypto 3.0 there;
// - longer, otherwise: OpenSSL's libcrypto (EVP). On x86-64 with AES-NI,
//   PCLMULQDQ and AVX-512 its stitched AES-GCM runs about 3 times as fast as
//   libsodium's and 2.4 times as fast as Botan 2.19's in bulk.
// Without AES-NI and PCLMULQDQ (libsodium's AES-GCM needs them) every
// AES-GCM record goes through libcrypto. X25519 is libsodium's
// (x25519.hpp), the hashes and HKDF stay Botan's. test_noise_vectors checks
// these records byte for byte against Botan's AEAD (on both sides of the
// size switch, with ipsec-mb on and off) and the public Noise vectors.
//
// An EVP context (about 1.1 KiB for AES-GCM), or an ipsec-mb expanded key
// (1 KiB), is created on the first long record, so a connection that never
// carried one (an idle one) holds none, and is given only the nonce per
// record while the same key and direction use it. The two CipherStates of
// one channel share one (share_context_with): it is keyed again when the
// other direction uses it (about 170 ns for AES-GCM through EVP, 110
// through ipsec-mb, 80 for ChaChaPoly, measured here), so a connection
// holds one context, not two (issue 11).
#pragma once

#include <botan/secmem.h>
#include <cstdint>
#include <memory>
#include <span>

#include <authchain/compose/bytes.hpp>
#include <authchain/transport/detail/noise/aes_gcm_ipsec_mb.hpp>
#include <authchain/transport/detail/noise/suite.hpp>

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX (openssl/types.h)

namespace authchain::noise {

class CipherState {
public:
    // A CipherState for `cipher` with no key (InitializeKey(empty)).
    explicit CipherState(Cipher cipher);
    CipherState(CipherState&&) noexcept = default;
    CipherState& operator=(CipherState&&) noexcept = default;

    // InitializeKey(key): sets k (KEYLEN bytes, or empty for "no key") and n = 0.
    void initialize_key(const Botan::secure_vector<std::uint8_t>& key);
    bool has_key() const noexcept { return !key_.empty(); }
    void set_nonce(std::uint64_t nonce) noexcept { nonce_ = nonce; }
    std::uint64_t nonce() const noexcept { return nonce_; }
    Cipher cipher() const noexcept { return cipher_; }

    // EncryptWithAd(ad, plaintext), in place: buffer[offset..] holds the
    // plaintext and becomes the ciphertext followed by the TAGLEN-byte tag.
    // Without a key the buffer is left as is. Throws NoiseError when n is
    // 2^64-1 (reserved by the spec); n is incremented on success.
    void encrypt_with_ad(ByteView ad, Botan::secure_vector<std::uint8_t>& buffer,
                         std::size_t offset = 0);
    // EncryptWithAd(ad, plaintext) in place on a plain byte range: `data`
    // holds the plaintext in its first size-TAGLEN bytes, with room for the
    // tag after it; on return it holds ciphertext and tag, encrypted where
    // it lies (no copy). Without a key it is left as is.
    // Throws NoiseError as above.
    void encrypt_with_ad(ByteView ad, std::span<std::uint8_t> data);
    // EncryptWithAd(ad, head || body) into `out` (head.size() + body.size()
    // + TAGLEN bytes): the same ciphertext and tag, written where `out` is,
    // without first copying the plaintext there (the record layer's data
    // records: head is the type byte, body the caller's bytes). `out` must
    // not overlap `body`. Without a key the plaintext is copied. Throws as above.
    void encrypt_with_ad(ByteView ad, ByteView head, ByteView body, std::span<std::uint8_t> out);
    // DecryptWithAd(ad, ciphertext), in place: buffer[offset..] holds
    // ciphertext and tag and becomes the plaintext. On a bad tag, a short
    // input or the reserved nonce it throws NoiseError, wipes buffer[offset..]
    // and leaves n unchanged. Without a key the buffer is left as is.
    void decrypt_with_ad(ByteView ad, Botan::secure_vector<std::uint8_t>& buffer,
                         std::size_t offset = 0);
    // DecryptWithAd(ad, ciphertext) in place on a plain byte range: `data`
    // holds ciphertext and tag; on success its first size-TAGLEN bytes are
    // the plaintext and that length is returned. It is decrypted where it
    // lies (no copy); nothing in it may be used unless this returns.
    // Failures as above (the range is wiped).
    std::size_t decrypt_with_ad(ByteView ad, std::span<std::uint8_t> data);
    // Rekey(): k = the first KEYLEN bytes of ENCRYPT(k, 2^64-1, "", zeros(32)).
    // The nonce is unchanged. Requires a key.
    void rekey();
    // From now on this state and `other` (the other direction of the same
    // channel, on the same executor) use one EVP context between them.
    void share_context_with(CipherState& other);

private:
    // Frees an EVP_CIPHER_CTX, which wipes its key schedule.
    struct EvpContextFree {
        void operator()(evp_cipher_ctx_st* context) const noexcept;
    };
    using EvpContext = std::unique_ptr<evp_cipher_ctx_st, EvpContextFree>;

    // One EVP context and which key and direction it is keyed for; or, for
    // AES-GCM through ipsec-mb, one expanded key and which key it holds.
    struct Context {
        EvpContext evp;
        std::uint64_t keyed_for = 0;  // a key_id_; 0: not keyed
        bool encrypting = false;
        std::unique_ptr<ipsec_mb::Key> gcm;
        std::uint64_t gcm_keyed_for = 0;
    };
    // The context, keyed with key_ for `encrypt` (created on first use).
    evp_cipher_ctx_st* context(bool encrypt);
    // The ipsec-mb key, expanded from key_ (created on first use).
    const ipsec_mb::Key& gcm_key();
    // True when long records go through ipsec-mb (ipsec_mb::available()).
    bool through_ipsec_mb() const noexcept;
    // Seals `data` (plaintext, then TAGLEN bytes of room for the tag) in
    // place under `nonce`: libsodium for a short record, EVP for a long one.
    void seal(std::uint64_t nonce, ByteView ad, std::span<std::uint8_t> data);
    // Seals head || body into `out` (plaintext size, then the tag) with
    // ipsec-mb or EVP: the long-record path of both encrypt_with_ad forms.
    // `out` may be body.data() itself (in place), or apart from both.
    void seal_long(std::uint64_t nonce, ByteView ad, ByteView head, ByteView body, std::uint8_t* out);
    // Opens `data` (ciphertext and tag) in place under nonce_: true when
    // authentic. The caller wipes `data` when it is not (or on a throw).
    bool open(ByteView ad, std::span<std::uint8_t> data);
    Cipher cipher_;
    Botan::secure_vector<std::uint8_t> key_;
    std::uint64_t key_id_ = 0;  // unique per key set in any CipherState of the process
    std::uint64_t nonce_ = 0;
    std::shared_ptr<Context> context_;  // null until first use
};

}  // namespace authchain::noise
