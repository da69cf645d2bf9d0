// PEM private keys through Botan: PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE
// KEY", as `ssh-keygen -m PKCS8` writes) and the unencrypted legacy forms
// "RSA PRIVATE KEY" (PKCS#1) and "EC PRIVATE KEY" (RFC 5915, P-256) that
// `ssh-keygen -m PEM` writes. Pure: no I/O.
#pragma once

#include <botan/pk_keys.h>

#include <memory>
#include <optional>
#include <string_view>

namespace authchain::openssh {

// Throws FormatError: "passphrase required" / "wrong passphrase ..." for
// encrypted PKCS#8, a message naming the fix (`ssh-keygen -p`) for encrypted
// legacy PEM, and on any malformed input or unsupported algorithm.
std::unique_ptr<Botan::Private_Key> parse_pem_private(std::string_view text,
                                                      std::optional<std::string_view> passphrase);

}  // namespace authchain::openssh
