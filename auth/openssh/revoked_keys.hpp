// revoked_keys: sshd's RevokedKeys, plain form: a file of public keys, one
// "type base64 [comment]" per line (blank and '#' lines ignored). A key
// listed there is refused, and so is a certificate whose key or CA key is
// listed. OpenSSH KRL files (ssh-keygen -k) are not read: a file that
// starts with the KRL magic is refused with a message saying so, never
// read as an empty list.
#pragma once

#include <authchain/auth/openssh/key.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace authchain::openssh {

struct RevokedKeys {
    std::vector<PublicKey> keys;
    std::vector<std::string> warnings;  // "file:line: why the line was skipped"
    bool contains(const PublicKey& key) const;
};

// Parses the text of a revoked keys file. Throws FormatError for a KRL.
RevokedKeys parse_revoked_keys(std::string_view text, std::string_view file_name);

}  // namespace authchain::openssh
