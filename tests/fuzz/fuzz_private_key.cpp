// Fuzzes PrivateKey::parse (openssh-key-v1 and PKCS#8 PEM) without and with
// a passphrase. The only exception the parser may throw is FormatError.
// bcrypt rounds are capped at 4 so that encrypted inputs stay fast.
// Input that holds no "-----BEGIN" line is taken as the binary content of an
// openssh-key-v1 file and armored first, so mutations reach the binary parser.
#include <authchain/auth/openssh/key.hpp>

#include <botan/base64.h>

#include <cstdint>
#include <string>
#include <string_view>

using authchain::openssh::FormatError;
using authchain::openssh::PrivateKey;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr unsigned max_rounds = 4;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string armored;
    if (text.find("-----BEGIN") == std::string_view::npos) {
        armored = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Botan::base64_encode(data, size) +
                  "\n-----END OPENSSH PRIVATE KEY-----\n";
        text = armored;
    }
    try {
        PrivateKey key = PrivateKey::parse(text, std::nullopt, max_rounds);
        (void)key.public_key().fingerprint();
    } catch (const FormatError&) {
    }
    // PKCS#8 PBES2 iteration counts are not bounded by the parser: skip those with a passphrase.
    if (text.find("ENCRYPTED") == std::string_view::npos) {
        try {
            PrivateKey key = PrivateKey::parse(text, "fuzz pass", max_rounds);
            (void)key.comment();
        } catch (const FormatError&) {
        }
    }
    return 0;
}
