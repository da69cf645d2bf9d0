#include <authchain/auth/tls_ca/detail/signing.hpp>

#include <botan/bigint.h>
#include <botan/mem_ops.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>

#include <memory>

namespace authchain::ca::detail {

Botan::RandomNumberGenerator& rng() {
    static Botan::System_RNG system;
    return system;
}

Botan::X509_Certificate sign_certificate(const Botan::Private_Key& signer, const std::vector<std::uint8_t>& public_key,
                                         const Botan::X509_DN& issuer, const Botan::X509_DN& subject,
                                         const Botan::Extensions& extensions,
                                         std::chrono::system_clock::time_point not_before,
                                         std::chrono::system_clock::time_point not_after) {
    Botan::AlgorithmIdentifier algorithm;
    std::unique_ptr<Botan::PK_Signer> pk_signer(Botan::choose_sig_format(signer, rng(), "SHA-256", algorithm));
    // Random, positive, 127 bits (top bit set): at least 64 bits of entropy (CA/B BR 7.1).
    const Botan::BigInt serial(rng(), 127, true);
    return Botan::X509_CA::make_cert(pk_signer.get(), rng(), serial, algorithm, public_key,
                                     Botan::X509_Time(not_before), Botan::X509_Time(not_after), issuer, subject,
                                     extensions);
}

void wipe(std::string& secret) {
    Botan::secure_scrub_memory(secret.data(), secret.size());
    secret.clear();
}

}  // namespace authchain::ca::detail
