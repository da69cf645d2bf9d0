#include <authchain/auth/openssh/revoked_keys.hpp>

#include <authchain/auth/openssh/authorized_keys.hpp>
#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/key_lines.hpp>
#include <authchain/compose/text.hpp>

#include <algorithm>

namespace authchain::openssh {

namespace {

constexpr std::string_view krl_magic = "SSHKRL\n\0";
constexpr std::size_t max_revoked_line = 16 * 1024;
constexpr std::size_t max_revoked_entries = 65536;

}  // namespace

bool RevokedKeys::contains(const PublicKey& key) const {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
}

RevokedKeys parse_revoked_keys(std::string_view text, std::string_view file_name) {
    if (text.substr(0, 6) == krl_magic.substr(0, 6))
        throw FormatError(std::string(file_name) +
                          ": an OpenSSH KRL (ssh-keygen -k) is not read; list the revoked public keys instead");
    RevokedKeys out;
    auto parse = [&](std::string_view line, const std::string&) -> std::optional<std::string> {
        std::string_view rest = line;
        std::string_view type = take_word(rest);
        std::string_view base64 = take_word(rest);
        if (!is_key_type_name(type)) return "no key type found";
        try {
            if (is_certificate_type(type))  // a certificate line revokes its key
                out.keys.push_back(Certificate::from_base64(type, base64).key());
            else
                out.keys.push_back(PublicKey::from_base64(type, base64));
        } catch (const FormatError& e) {
            return std::string("unusable ") + std::string(type) + " key: " + e.what();
        }
        return std::nullopt;
    };
    out.warnings = parse_key_lines(text, file_name, max_revoked_line, max_revoked_entries, parse);
    return out;
}

}  // namespace authchain::openssh
