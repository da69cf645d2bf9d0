// TlsCredentials (transport/tls.hpp) as Botan objects: what the TLS engine
// hands to Botan, and what `authchain ca` code reads PEM with.
#pragma once

#include <botan/certstor.h>
#include <botan/pk_keys.h>
#include <botan/x509cert.h>

#include <memory>
#include <string_view>
#include <vector>

#include <authchain/transport/tls.hpp>

namespace authchain {

class TlsCredentials {
public:
    std::vector<Botan::X509_Certificate> chain;  // leaf first; empty: none
    std::unique_ptr<Botan::Private_Key> key;     // null when chain is empty
    std::vector<std::shared_ptr<Botan::Certificate_Store>> trust;

    std::vector<Botan::Certificate_Store*> trust_stores() const;
};

namespace tls_detail {
// Every CERTIFICATE block of `pem`, decoded. Throws std::invalid_argument.
std::vector<Botan::X509_Certificate> read_certificates(std::string_view pem);
// The one PRIVATE KEY / ENCRYPTED PRIVATE KEY block of `pem` (PKCS#8),
// decrypted with `passphrase` when given. Throws std::invalid_argument.
std::unique_ptr<Botan::Private_Key> read_private_key(std::string_view pem,
                                                     const Botan::secure_vector<char>* passphrase);
}  // namespace tls_detail

}  // namespace authchain
