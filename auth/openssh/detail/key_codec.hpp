// Per-type SSH encodings of Botan keys (internal to auth/openssh):
// public key blobs (RFC 4253 6.6, RFC 5656, RFC 8709) and the private
// fields of an openssh-key-v1 private section (PROTOCOL.key).
#pragma once

#include "auth/openssh/detail/wire.hpp"

#include <botan/pk_keys.h>

#include <memory>
#include <string>
#include <string_view>

namespace authchain::openssh::codec {

inline constexpr std::string_view ed25519_type = "ssh-ed25519";
inline constexpr std::string_view ecdsa_type = "ecdsa-sha2-nistp256";
inline constexpr std::string_view ecdsa_curve = "nistp256";
inline constexpr std::string_view rsa_type = "ssh-rsa";
// RSA modulus bounds, as OpenSSH (SSH_RSA_MINIMUM_MODULUS_SIZE, OPENSSL_RSA_MAX_MODULUS_BITS).
inline constexpr std::size_t rsa_min_bits = 1024;
inline constexpr std::size_t rsa_max_bits = 16384;
inline constexpr std::size_t max_mpint_bytes = rsa_max_bits / 8;
// Bound on a public key blob (an RSA-16384 blob is ~2 KiB).
inline constexpr std::size_t max_blob_bytes = 8192;

// The SSH type name of a supported Botan key; throws FormatError otherwise
// (other algorithms, ECDSA on another curve, RSA outside the size bounds).
std::string ssh_type(const Botan::Public_Key& key);

// The public key blob: string type, then the type's public fields.
Bytes public_blob(const Botan::Public_Key& key);

// Reads the public fields that follow `type` in a blob (not the type itself).
// Throws FormatError on malformed or unsupported input.
std::unique_ptr<Botan::Public_Key> read_public(std::string_view type, WireReader& in);

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
