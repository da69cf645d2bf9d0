// OpenSSH certificates (PROTOCOL.certkeys): a public key, who it is for
// and when, signed by a CA key. Parsing is pure and bounded; the signature
// is verified only when asked (verify_signature), so that a caller can
// refuse on the cheap checks first (DESIGN rule 9).
//
// Blob: string type ("<key type>-cert-v01@openssh.com"), string nonce,
// the key's public fields as in its plain blob, uint64 serial, uint32
// type (1 user, 2 host), string key id, string valid principals (a list of
// strings), uint64 valid after, uint64 valid before (seconds since the
// epoch, [after, before)), string critical options, string extensions
// (each a list of string name, string data), string reserved, string
// signature key (a plain public key blob: a CA key may not be a
// certificate), string signature (over every byte before it).
// Types: ssh-ed25519-cert-v01@openssh.com,
// ecdsa-sha2-nistp{256,384,521}-cert-v01@openssh.com,
// ssh-rsa-cert-v01@openssh.com (signed with rsa-sha2-256/512 when the CA
// is RSA; SHA-1 "ssh-rsa" signatures never verify).
#pragma once

#include <authchain/auth/openssh/key.hpp>
#include <authchain/compose/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace authchain::openssh {

// Bounds checked before anything is kept (DESIGN rule 2).
inline constexpr std::size_t max_certificate_blob = 16 * 1024;
inline constexpr std::size_t max_certificate_principals = 256;  // as OpenSSH SSHKEY_CERT_MAX_PRINCIPALS
inline constexpr std::size_t max_certificate_options = 64;       // critical options, and extensions
inline constexpr std::size_t max_certificate_text = 1024;        // key id, a principal, an option name

inline constexpr std::string_view certificate_suffix = "-cert-v01@openssh.com";

enum class CertificateType : std::uint32_t { user = 1, host = 2 };

struct CertificateOption {
    std::string name;
    Bytes data;  // the option's data field as is (for critical options: a string holding the value)
    bool operator==(const CertificateOption&) const = default;
};

// True when `type` names a certificate type (ends with -cert-v01@openssh.com).
bool is_certificate_type(std::string_view type);

class Certificate {
public:
    // Parses a certificate blob: structure, bounds, a supported key and CA
    // key (the CA key is not a certificate), critical option names unique.
    // Does not verify the signature. Throws FormatError.
    static Certificate from_blob(ByteView blob);
    // "type base64" as in a -cert.pub file; `type` must match the blob.
    static Certificate from_base64(std::string_view type, std::string_view base64);
    // The first "type base64 [comment]" line of a -cert.pub file's text.
    static Certificate from_line(std::string_view line);

    const std::string& type() const { return type_; }
    const Bytes& blob() const { return blob_; }
    const PublicKey& key() const { return key_; }  // the certified key, as a plain key
    std::uint64_t serial() const { return serial_; }
    CertificateType certificate_type() const { return cert_type_; }
    const std::string& key_id() const { return key_id_; }
    const std::vector<std::string>& principals() const { return principals_; }
    std::uint64_t valid_after() const { return valid_after_; }
    std::uint64_t valid_before() const { return valid_before_; }
    const std::vector<CertificateOption>& critical_options() const { return critical_options_; }
    const std::vector<CertificateOption>& extensions() const { return extensions_; }
    const PublicKey& signature_key() const { return ca_; }
    const Bytes& signature() const { return signature_; }

    // Verifies the signature with signature_key() over every byte before it.
    bool verify_signature() const;
    // "type base64 [comment]".
    std::string to_line(std::string_view comment = {}) const;

private:
    Certificate(PublicKey key, PublicKey ca) : key_(std::move(key)), ca_(std::move(ca)) {}
    std::string type_;
    Bytes blob_;
    std::size_t signed_bytes_ = 0;
    PublicKey key_;
    std::uint64_t serial_ = 0;
    CertificateType cert_type_ = CertificateType::user;
    std::string key_id_;
    std::vector<std::string> principals_;
    std::uint64_t valid_after_ = 0, valid_before_ = 0;
    std::vector<CertificateOption> critical_options_, extensions_;
    PublicKey ca_;
    Bytes signature_;
};

// The value of a critical option whose data is one string (force-command,
// source-address); throws FormatError when the data is not exactly that.
std::string option_string(const CertificateOption& option);

}  // namespace authchain::openssh
