// The signing step shared by the CA and its leaves.
#pragma once

#include <botan/x509_ext.h>
#include <botan/x509cert.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace Botan {
class RandomNumberGenerator;
class Private_Key;
}  // namespace Botan

namespace authchain::ca::detail {

inline constexpr std::size_t max_pem_file = 256 * 1024;

Botan::RandomNumberGenerator& rng();

// A certificate for `public_key` (its DER SubjectPublicKeyInfo) signed by
// `signer` with ECDSA/SHA-256 (or RSA PKCS#1 v1.5 SHA-256), a random
// 127-bit serial, exactly `extensions`.
Botan::X509_Certificate sign_certificate(const Botan::Private_Key& signer, const std::vector<std::uint8_t>& public_key,
                                         const Botan::X509_DN& issuer, const Botan::X509_DN& subject,
                                         const Botan::Extensions& extensions,
                                         std::chrono::system_clock::time_point not_before,
                                         std::chrono::system_clock::time_point not_after);

void wipe(std::string& secret);

}  // namespace authchain::ca::detail
