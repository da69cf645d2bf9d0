// The openssh-key-v1 private key file format (OpenSSH PROTOCOL.key), as
// `ssh-keygen` writes it: armored base64 of
//   "openssh-key-v1\0" string ciphername, string kdfname, string kdfoptions,
//   uint32 1, string public key blob, string encrypted section [, tag]
// where the decrypted section is
//   uint32 checkint, uint32 checkint, string type, <private fields>,
//   string comment, padding 1,2,3... to the cipher block size.
// Pure functions: no I/O.
#pragma once

#include <authchain/compose/bytes.hpp>

#include <botan/pk_keys.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace authchain::openssh {

// Bound on the armored text accepted by the parser (an RSA-16384 key is ~12 KiB).
inline constexpr std::size_t max_private_key_text = 64 * 1024;
// bcrypt rounds written by ssh-keygen (and by write_openssh_private).
inline constexpr unsigned openssh_default_kdf_rounds = 16;

// True when `text` holds an "-----BEGIN OPENSSH PRIVATE KEY-----" block.
bool is_openssh_private_key(std::string_view text);

// The public key blob stored unencrypted in the file header; needs no
// passphrase. Throws FormatError on malformed input.
Bytes openssh_public_blob(std::string_view text);

struct OpensshPrivateKey {
    std::unique_ptr<Botan::Private_Key> key;
    std::string comment;
};

// Parses and, if needed, decrypts an openssh-key-v1 file. Ciphers: none,
// aes{128,192,256}-ctr, aes{128,192,256}-cbc, aes{128,256}-gcm@openssh.com,
// chacha20-poly1305@openssh.com;
// KDF: bcrypt with at most `max_kdf_rounds` rounds. Checks the check
// integers, the padding, and that the private key matches the public key
// of the header. Throws FormatError: "passphrase required" when the file
// is encrypted and no (or an empty) passphrase is given, "wrong passphrase"
// when decryption fails.
OpensshPrivateKey parse_openssh_private(std::string_view text, std::optional<std::string_view> passphrase,
                                        unsigned max_kdf_rounds);

// Serializes `key` as openssh-key-v1 text, 70-column base64 as ssh-keygen.
// With a non-empty passphrase: aes256-ctr + bcrypt (16-byte random salt,
// `kdf_rounds` rounds); otherwise unencrypted ("none").
std::string write_openssh_private(const Botan::Private_Key& key, std::string_view comment,
                                  std::optional<std::string_view> passphrase,
                                  unsigned kdf_rounds = openssh_default_kdf_rounds);

}  // namespace authchain::openssh
