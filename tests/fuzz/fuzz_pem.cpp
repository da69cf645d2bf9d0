// Fuzzes the reading of PEM files for TLS: the block splitter, certificates,
// PKCS#8 keys, and certificate requests as `authchain ca sign` reads them.
// Anything malformed must be std::invalid_argument, nothing else.
#include <cstdint>
#include <string_view>

#include <authchain/auth/tls_ca.hpp>
#include <authchain/transport/detail/tls/credentials.hpp>
#include <authchain/transport/detail/tls/pem.hpp>

using namespace authchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const ca::Authority authority = ca::make_authority({.name = "fuzz CA"});
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)tls_detail::pem_blocks(text, {"CERTIFICATE", "CERTIFICATE REQUEST"});
    } catch (const std::invalid_argument&) {
    }
    try {
        (void)tls_detail::read_certificates(text);
    } catch (const std::invalid_argument&) {
    }
    try {
        const Botan::secure_vector<char> passphrase{'p', 'w'};
        (void)tls_detail::read_private_key(text, &passphrase);
    } catch (const std::invalid_argument&) {
    }
    try {
        (void)ca::sign_request(authority, text, {.name = "", .purpose = ca::Purpose::client});
    } catch (const std::invalid_argument&) {
    }
    return 0;
}
