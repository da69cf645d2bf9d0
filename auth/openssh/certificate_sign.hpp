// Signing OpenSSH certificates with a CA key, as `ssh-keygen -s CA` does:
// what `ssh-keygen -L` reads and sshd accepts.
#pragma once

#include <authchain/auth/openssh/certificate.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace authchain::openssh {

// The extensions ssh-keygen gives a user certificate by default.
std::vector<CertificateOption> default_user_extensions();
// A critical option whose data is one string (force-command, source-address).
CertificateOption string_option(std::string name, std::string_view value);

struct CertificateRequest {
    CertificateType type = CertificateType::user;
    std::string key_id;
    std::vector<std::string> principals;
    std::uint64_t serial = 0;
    std::uint64_t valid_after = 0;
    std::uint64_t valid_before = 0;
    std::vector<CertificateOption> critical_options;  // written sorted by name
    std::vector<CertificateOption> extensions;        // written sorted by name
};

// A request valid from one minute ago (clock skew) for `lifetime` (24 h by
// default), with ssh-keygen's default extensions for a user certificate.
CertificateRequest certificate_request(CertificateType type, std::string key_id,
                                       std::vector<std::string> principals,
                                       std::chrono::seconds lifetime = std::chrono::hours(24));

// Signs `key` with `ca` (a plain key: a certificate cannot sign): random
// 32-byte nonce, fields as PROTOCOL.certkeys, signature by ca.sign
// (Ed25519, ECDSA with the curve's hash, RSA with rsa-sha2-512). Throws
// std::invalid_argument for a request ssh-keygen would refuse (empty key
// id is allowed; a principal or key id over max_certificate_text, more
// than max_certificate_principals principals, valid_before <= valid_after,
// repeated option names).
Certificate sign_certificate(const PublicKey& key, const CertificateRequest& request, const PrivateKey& ca);

}  // namespace authchain::openssh
