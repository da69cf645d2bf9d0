// Per-type SSH encodings of Botan keys (internal to auth/openssh):
// public key blobs (RFC 4253 6.6, RFC 5656, RFC 8709) and the private
// fields of an openssh-key-v1 private section (PROTOCOL.key).
#pragma once

#include <authchain/auth/openssh/detail/wire.hpp>

#include <botan/pk_keys.h>

#include <botan/ec_group.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace authchain::openssh::codec {

inline constexpr std::string_view ed25519_type = "ssh-ed25519";
// The ECDSA curves of RFC 5656: SSH type, curve name, Botan group, the
// signature hash and the size of a scalar (r, s, the private value).
struct EcdsaCurve {
    std::string_view type;         // "ecdsa-sha2-nistp384"
    std::string_view curve;        // "nistp384"
    std::string_view botan_group;  // "secp384r1"
    std::string_view padding;      // "EMSA1(SHA-384)"
    std::size_t scalar_bytes;      // 48
    std::size_t bits;              // 384, as ssh-keygen -l prints
};
// nistp256, nistp384 and nistp521, or nullptr for another type name.
const EcdsaCurve* ecdsa_curve(std::string_view type);
// The curve of `bits` (256, 384, 521), or nullptr.
const EcdsaCurve* ecdsa_curve_of_bits(std::size_t bits);
const Botan::EC_Group& ecdsa_group(const EcdsaCurve& curve);
inline constexpr std::string_view rsa_type = "ssh-rsa";
// RSA modulus bounds, as OpenSSH (SSH_RSA_MINIMUM_MODULUS_SIZE and the
// default RequiredRSASize are 1024; OPENSSL_RSA_MAX_MODULUS_BITS is 16384).
// The floor stays at OpenSSH's 1024 rather than 2048: it is a strength
// policy, not a cost bound (a smaller modulus is cheaper to verify), and
// raising it would refuse keys OpenSSH still accepts in authorized_keys
// and known_hosts. The cost of a key from the wire is bounded by the
// ceiling, the exponent bound below, and by looking the key up before any
// signature is verified (auth/public_key.hpp).
inline constexpr std::size_t rsa_min_bits = 1024;
inline constexpr std::size_t rsa_max_bits = 16384;
// RSA public exponent bound: odd, 3 <= e < 2^32. A verify costs one modular
// squaring per exponent bit, so an unbounded e (e = n - 2 with a 16384-bit n)
// makes one verify cost seconds; with e < 2^32 it costs at most 32 squarings.
// OpenSSL refuses e above 64 bits for moduli over 3072 bits
// (OPENSSL_RSA_MAX_PUBEXP_BITS); ssh-keygen and OpenSSL write e = 65537.
inline constexpr std::size_t rsa_max_exponent_bits = 32;
inline constexpr std::size_t max_mpint_bytes = rsa_max_bits / 8;
// Bound on a public key blob (an RSA-16384 blob is ~2 KiB).
inline constexpr std::size_t max_blob_bytes = 8192;

// "key type 'ssh-dss' is not supported (supported: ...)".
FormatError unsupported_type(std::string_view type);

// The SSH type name of a supported Botan key; throws FormatError otherwise
// (other algorithms, ECDSA on a curve other than P-256/384/521, RSA outside the size or
// exponent bounds).
std::string ssh_type(const Botan::Public_Key& key);

// The public key blob: string type, then the type's public fields.
Bytes public_blob(const Botan::Public_Key& key);

// Reads the public fields that follow `type` in a blob (not the type itself).
// Throws FormatError on malformed or unsupported input.
std::unique_ptr<Botan::Public_Key> read_public(std::string_view type, WireReader& in);

// The 32 key bytes of an ssh-ed25519 blob (string type, string key), as
// libsodium takes them. Throws FormatError on a malformed blob.
ByteView ed25519_key_bytes(ByteView blob);

// Reads the private fields that follow `type` in an openssh-key-v1 private
// section and checks they are consistent (public part derived from the
// private part). Throws FormatError.
std::unique_ptr<Botan::Private_Key> read_private(std::string_view type, WireReader& in);

// Checks that a private key from any source (PKCS#8, PEM, generated) is of a
// supported type and consistent: the public part derives from the private
// part, RSA primes multiply to the modulus and the exponents match.
// Throws FormatError.
void check_private(const Botan::Private_Key& key);

// Writes type and private fields as read_private expects them.
void write_private(const Botan::Private_Key& key, WireWriter& out);

}  // namespace authchain::openssh::codec
