#include <authchain/auth/openssh/pem_key.hpp>

#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/openssh/private_key_file.hpp>
#include <authchain/auth/openssh/detail/key_codec.hpp>

#include <botan/asn1_obj.h>
#include <botan/ber_dec.h>
#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pem.h>
#include <botan/pkcs8.h>
#include <botan/rsa.h>

namespace authchain::openssh {

namespace {

constexpr std::string_view pkcs8_encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----";
constexpr std::string_view pkcs8_plain = "-----BEGIN PRIVATE KEY-----";
constexpr std::string_view legacy_rsa = "-----BEGIN RSA PRIVATE KEY-----";
constexpr std::string_view legacy_ec = "-----BEGIN EC PRIVATE KEY-----";

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

Botan::DataSource_Memory source_of(std::string_view text) {
    return Botan::DataSource_Memory(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

std::unique_ptr<Botan::Private_Key> parse_pkcs8(std::string_view text, std::optional<std::string_view> passphrase) {
    const bool encrypted = contains(text, pkcs8_encrypted);
    if (encrypted && (!passphrase || passphrase->empty())) throw FormatError("passphrase required");
    auto source = source_of(text);
    std::string copy = encrypted ? std::string(*passphrase) : std::string();  // Botan 2 takes a std::string
    struct Wiper {
        std::string& secret;
        ~Wiper() { wipe(secret); }
    } wiper{copy};
    try {
        if (encrypted) return Botan::PKCS8::load_key(source, copy);
        return Botan::PKCS8::load_key(source);
    } catch (const Botan::Exception& e) {
        if (encrypted) throw FormatError("wrong passphrase (or corrupt PKCS#8 key)");
        throw FormatError(std::string("invalid PKCS#8 private key: ") + e.what());
    }
}

// "EC PRIVATE KEY": ECPrivateKey ::= SEQUENCE { version, privateKey OCTET STRING,
// [0] EXPLICIT parameters (the curve OID) OPTIONAL, [1] publicKey OPTIONAL }.
std::unique_ptr<Botan::Private_Key> parse_legacy_ec(const Botan::secure_vector<std::uint8_t>& der) {
    std::size_t version = 0;
    Botan::secure_vector<std::uint8_t> scalar;
    Botan::OID curve;
    Botan::BER_Decoder(der)
        .start_cons(Botan::SEQUENCE)
        .decode(version)
        .decode(scalar, Botan::OCTET_STRING)
        .decode_optional(curve, Botan::ASN1_Tag(0), Botan::ASN1_Tag(Botan::CONSTRUCTED | Botan::CONTEXT_SPECIFIC));
    const Botan::EC_Group* group = nullptr;
    for (std::size_t bits : {256, 384, 521}) {
        const Botan::EC_Group& g = codec::ecdsa_group(*codec::ecdsa_curve_of_bits(bits));
        if (curve == g.get_curve_oid()) group = &g;
    }
    if (version != 1 || !group)
        throw FormatError(
            "EC private key: only version 1 keys on P-256/384/521 (with the curve named) are supported");
    Botan::AlgorithmIdentifier alg(Botan::OID::from_string("ECDSA"), group->DER_encode(Botan::EC_DOMPAR_ENC_OID));
    return std::make_unique<Botan::ECDSA_PrivateKey>(alg, der);
}

std::unique_ptr<Botan::Private_Key> parse_legacy(std::string_view text) {
    if (contains(text, "Proc-Type: 4,ENCRYPTED"))
        throw FormatError("encrypted legacy PEM private keys are not supported: convert with "
                          "`ssh-keygen -p -f FILE` (writes openssh-key-v1)");
    auto source = source_of(text);
    try {
        std::string label;
        Botan::secure_vector<std::uint8_t> der = Botan::PEM_Code::decode(source, label);
        if (label == "RSA PRIVATE KEY") return std::make_unique<Botan::RSA_PrivateKey>(Botan::AlgorithmIdentifier(), der);
        if (label == "EC PRIVATE KEY") return parse_legacy_ec(der);
        throw FormatError("unsupported PEM label '" + label.substr(0, 64) + "'");
    } catch (const Botan::Exception& e) {
        throw FormatError(std::string("invalid PEM private key: ") + e.what());
    }
}

}  // namespace

std::unique_ptr<Botan::Private_Key> parse_pem_private(std::string_view text,
                                                      std::optional<std::string_view> passphrase) {
    if (text.size() > max_private_key_text) throw FormatError("private key file too large");
    if (contains(text, pkcs8_encrypted) || contains(text, pkcs8_plain)) return parse_pkcs8(text, passphrase);
    if (contains(text, legacy_rsa) || contains(text, legacy_ec)) return parse_legacy(text);
    throw FormatError("not a private key file (expected OpenSSH, PKCS#8 or PEM)");
}

}  // namespace authchain::openssh
