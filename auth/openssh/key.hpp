// OpenSSH keys: public keys (SSH wire blobs, authorized_keys-style lines,
// SHA256 fingerprints as `ssh-keygen -l` prints) and private keys
// (openssh-key-v1 files as ssh-keygen writes them, plain or with a
// passphrase, and PEM/PKCS#8). Supported types: ssh-ed25519,
// ecdsa-sha2-nistp256/384/521, ssh-rsa (RSA signatures only with SHA-2).
#pragma once

#include <authchain/compose/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace Botan {
class Public_Key;
class Private_Key;
}

namespace authchain::openssh {

namespace codec {
class Ed25519Secret;  // detail/ed25519.hpp
}

// A key file or blob that is malformed, of an unsupported type, or that
// cannot be decrypted ("passphrase required", "wrong passphrase").
class FormatError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Default bound on bcrypt rounds accepted by PrivateKey::parse (ssh-keygen writes 16).
inline constexpr unsigned default_max_kdf_rounds = 1024;

// An SSH public key: immutable, copyable value, compared by its blob.
class PublicKey {
public:
    // Parses an SSH wire blob (string type, then the type's fields).
    // Throws FormatError on malformed input, trailing bytes or an unsupported type.
    static PublicKey from_blob(ByteView blob);
    // Decodes base64 text as in "ssh-ed25519 AAAA... comment"; `type`
    // must equal the type named inside the blob. Throws FormatError.
    static PublicKey from_base64(std::string_view type, std::string_view base64);

    // "ssh-ed25519", "ecdsa-sha2-nistp256" (384, 521) or "ssh-rsa".
    const std::string& type() const;
    // The SSH wire blob.
    const Bytes& blob() const;
    // "SHA256:" + unpadded base64 of SHA-256(blob), as `ssh-keygen -l` prints.
    std::string fingerprint() const;
    // 256 for Ed25519, 256/384/521 for ECDSA, the modulus size in bits for RSA.
    std::size_t bits() const;
    // "ED25519", "ECDSA" or "RSA", as `ssh-keygen -l` prints in parentheses.
    std::string type_label() const;
    // Verifies an SSH signature blob (string algorithm, string signature)
    // over `message`. Ed25519: "ssh-ed25519"; ECDSA: the key's type
    // (mpint r, mpint s over SHA-256/384/512 for nistp256/384/521); RSA: only "rsa-sha2-256" and
    // "rsa-sha2-512" (never SHA-1 "ssh-rsa"). False on any mismatch or
    // malformed blob; never throws for bad input. Ed25519 is checked by
    // libsodium, which also refuses S >= L and a key or R of small order
    // (detail/ed25519.hpp).
    bool verify(ByteView message, ByteView signature) const;
    // "type base64" or "type base64 comment".
    std::string to_line(std::string_view comment = {}) const;

    // Blob equality.
    friend bool operator==(const PublicKey& a, const PublicKey& b);

private:
    PublicKey() = default;
    friend class PrivateKey;
    std::string type_;
    Bytes blob_;
    std::shared_ptr<const Botan::Public_Key> key_;
};

// How many times PublicKey::verify has been called in this process (all
// threads). Lets tests check that a refusal spent no signature work
// (DESIGN rule 9: keys are looked up before any signature is verified).
std::uint64_t signature_verifications() noexcept;

// An SSH private key: move-only.
class PrivateKey {
public:
    PrivateKey(PrivateKey&&) noexcept;
    PrivateKey& operator=(PrivateKey&&) noexcept;
    PrivateKey(const PrivateKey&) = delete;
    PrivateKey& operator=(const PrivateKey&) = delete;
    ~PrivateKey();

    // A fresh Ed25519 key from Botan's system RNG.
    static PrivateKey generate_ed25519();
    // A fresh ECDSA P-256 key.
    static PrivateKey generate_ecdsa_p256();
    // A fresh ECDSA key on nistp256, nistp384 or nistp521 (`bits` 256, 384
    // or 521); other sizes throw std::invalid_argument.
    static PrivateKey generate_ecdsa(std::size_t bits);
    // A fresh RSA key with `bits` modulus bits (2048..8192).
    static PrivateKey generate_rsa(std::size_t bits = 3072);

    // Parses an openssh-key-v1 file (unencrypted, or "aes256-ctr" /
    // "aes256-gcm@openssh.com" / "chacha20-poly1305@openssh.com" with
    // "bcrypt" as ssh-keygen -N [-Z] writes) or a
    // PEM private key (PKCS#8, plain or encrypted, "EC PRIVATE KEY",
    // "RSA PRIVATE KEY"). Throws FormatError, with "passphrase required"
    // or "wrong passphrase" when decryption is the problem. Files asking
    // for more than `max_kdf_rounds` bcrypt rounds are refused.
    static PrivateKey parse(std::string_view file_text,
                            std::optional<std::string_view> passphrase = {});
    static PrivateKey parse(std::string_view file_text,
                            std::optional<std::string_view> passphrase,
                            unsigned max_kdf_rounds);
    // Checks the file mode first (check_file_mode(path, true), see
    // file_mode.hpp), then reads and parses it. Throws std::runtime_error
    // for mode or I/O problems, FormatError for content.
    static PrivateKey load(const std::filesystem::path& path,
                           std::optional<std::string_view> passphrase = {});

    PublicKey public_key() const;
    // The comment stored in an openssh-key-v1 file ("" for PEM or generated keys).
    const std::string& comment() const;
    // An SSH signature blob over `message`: "ssh-ed25519", the ECDSA
    // key's type or, for RSA, "rsa-sha2-512".
    Bytes sign(ByteView message) const;
    // The openssh-key-v1 text ("-----BEGIN OPENSSH PRIVATE KEY-----" ...).
    // With a passphrase: aes256-ctr + bcrypt (16-byte salt, 16 rounds),
    // exactly as ssh-keygen writes it.
    std::string to_openssh(std::string_view comment,
                           std::optional<std::string_view> passphrase = {}) const;

    // For the implementation (private_key_file.cpp).
    PrivateKey(std::unique_ptr<Botan::Private_Key> key, std::string comment);
    const Botan::Private_Key& botan_key() const;

private:
    std::unique_ptr<Botan::Private_Key> key_;
    std::string comment_;
    PublicKey public_;
    std::unique_ptr<const codec::Ed25519Secret> ed25519_;  // what an Ed25519 key signs with (libsodium)
};

}  // namespace authchain::openssh
