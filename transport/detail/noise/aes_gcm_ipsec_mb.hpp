// AES-256-GCM through Intel's ipsec-mb library (Debian's libipsec-mb-dev),
// for the secure channel's long records on CPUs with AVX-512, VAES and
// VPCLMULQDQ (Intel Ice Lake and later, AMD Zen 4 and later). There its
// AES-GCM runs about 4 times as fast as libcrypto 3.0's stitched AES-NI code:
// 22 GB/s against 5.4 for 64 KiB records on one core of this project's AMD
// EPYC (`openssl speed -evp aes-256-gcm` gives the 5.4). OpenSSL gained such
// code only in 3.2; Debian 12 has 3.0.
//
// It computes the same AEAD (AES-256-GCM of SP 800-38D) as libcrypto and
// libsodium, so either end may use any of them for any record;
// test_noise_vectors checks records byte for byte against Botan's with it on
// and off. CipherState uses it when available() and keeps libcrypto
// otherwise:
// - the build found no ipsec-mb (meson option `ipsec_mb`; Debian ships it
//   for amd64 only),
// - the CPU lacks one of those instructions (valgrind's virtual CPU does too,
//   so callgrind counts libcrypto's path),
// - or the environment has AUTHCHAIN_AES_GCM=libcrypto when the process
//   first seals or opens a long record: a way back without rebuilding.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <authchain/compose/bytes.hpp>

namespace authchain::noise::ipsec_mb {

// True when CipherState seals and opens long AES-GCM records here; decided
// once per process (then set_enabled may turn it off and on again).
bool available() noexcept;
// What was decided and why, for `authchain --version`: "ipsec-mb 1.3.0
// (AVX-512, VAES)", or "not used: " and why ("built without ipsec-mb").
std::string description();
// Turns it off (or on again, when the build and the CPU allow it) for the
// whole process: for tests and benchmarks that compare both paths. Records
// in flight are unaffected (both paths compute the same AEAD).
void set_enabled(bool enabled) noexcept;

// An expanded AES-256-GCM key (the round keys and GHASH powers, about 1 KiB),
// wiped when destroyed or set again. Requires available().
class Key {
public:
    Key();
    ~Key();
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;

    void set(std::span<const std::uint8_t, 32> key);
    // AES-GCM of head || body under `iv`, with `ad`: head.size() + body.size()
    // bytes of ciphertext at `out`, then the 16-byte tag. `out` may be
    // body.data() when head is empty (in place); otherwise it must not
    // overlap head or body.
    void seal(const std::array<std::uint8_t, 12>& iv, ByteView ad, ByteView head, ByteView body,
              std::uint8_t* out) const;
    // Decrypts `data` (ciphertext, then the 16-byte tag) in place and checks
    // the tag in constant time: true when authentic. When false, `data`
    // holds unauthenticated bytes: the caller wipes it.
    bool open(const std::array<std::uint8_t, 12>& iv, ByteView ad, std::span<std::uint8_t> data) const;

private:
    struct Expanded;
    std::unique_ptr<Expanded> expanded_;
};

}  // namespace authchain::noise::ipsec_mb
