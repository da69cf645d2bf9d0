// The Noise suite: which DH, cipher and hash a Noise_NN handshake uses
// (Noise Protocol Framework, revision 34, sections 12.1-12.3).
//
// DH is always 25519. Suite names are Noise's spelling without the pattern:
// "25519_AESGCM_SHA256"; the full protocol name is "Noise_NN_" + name.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace authchain::noise {

enum class Cipher { ChaChaPoly, AESGCM };
enum class Hash { SHA256, SHA512, BLAKE2b };

// Raised by the Noise module on any failure: a bad tag, a malformed
// message, a reserved nonce, a message out of turn. Carries no secret.
class NoiseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sizes the spec names.
inline constexpr std::size_t DHLEN = 32;        // X25519 public key and shared secret
inline constexpr std::size_t KEYLEN = 32;       // cipher key
inline constexpr std::size_t TAGLEN = 16;       // AEAD tag
inline constexpr std::size_t MAX_MESSAGE = 65535;  // any Noise message

struct Suite {
    Cipher cipher = Cipher::ChaChaPoly;
    Hash hash = Hash::SHA256;

    // "25519_ChaChaPoly_SHA256".
    std::string name() const;
    // "Noise_NN_25519_ChaChaPoly_SHA256".
    std::string protocol_name() const;
    bool operator==(const Suite&) const = default;
};

// Parses a suite name ("25519_AESGCM_SHA512"); nullopt if unknown.
std::optional<Suite> parse_suite(std::string_view name);

// Botan hash names: "SHA-256" / "SHA-512" / "BLAKE2b(512)".
std::string_view botan_hash_name(Hash hash);
// HASHLEN: 32 for SHA256, 64 for SHA512 and BLAKE2b.
std::size_t hash_length(Hash hash);

}  // namespace authchain::noise
