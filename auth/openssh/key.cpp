// PublicKey: SSH public key blobs, fingerprints and signature verification.
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/detail/ed25519.hpp>
#include <authchain/auth/openssh/detail/key_codec.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

#include <botan/base64.h>
#include <botan/hash.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>

#include <algorithm>
#include <atomic>

namespace authchain::openssh {

namespace {

std::atomic<std::uint64_t> verify_calls{0};

// ECDSA and RSA: everything after the algorithm name, converted to the form
// Botan verifies, with the Botan padding name; nullopt when the blob is
// malformed.
struct BotanSignature {
    Bytes bytes;
    std::string padding;
};

std::optional<BotanSignature> decode_signature(const PublicKey& key, const Botan::Public_Key& botan,
                                               ByteView blob) {
    WireReader in(blob);
    std::string_view algorithm = in.text();
    ByteView sig = in.string();
    in.expect_end("signature");
    if (const codec::EcdsaCurve* curve = codec::ecdsa_curve(key.type())) {
        if (algorithm != curve->type) return std::nullopt;
        const std::size_t n = curve->scalar_bytes;
        WireReader rs(sig);
        ByteView r = rs.mpint(n);
        ByteView s = rs.mpint(n);
        rs.expect_end("ECDSA signature");
        Bytes ieee(2 * n, 0);  // r || s, each left-padded to the scalar size
        std::copy(r.begin(), r.end(), ieee.begin() + static_cast<std::ptrdiff_t>(n - r.size()));
        std::copy(s.begin(), s.end(), ieee.end() - static_cast<std::ptrdiff_t>(s.size()));
        return BotanSignature{std::move(ieee), std::string(curve->padding)};
    }
    // RSA: SHA-2 only; a signature shorter than the modulus is left-padded, as OpenSSH.
    std::string padding;
    if (algorithm == "rsa-sha2-256")
        padding = "EMSA3(SHA-256)";
    else if (algorithm == "rsa-sha2-512")
        padding = "EMSA3(SHA-512)";
    else
        return std::nullopt;
    const std::size_t modulus_bytes = dynamic_cast<const Botan::RSA_PublicKey&>(botan).get_n().bytes();
    if (sig.empty() || sig.size() > modulus_bytes) return std::nullopt;
    Bytes padded(modulus_bytes - sig.size(), 0);
    padded.insert(padded.end(), sig.begin(), sig.end());
    return BotanSignature{std::move(padded), padding};
}

// Ed25519: libsodium (detail/ed25519.hpp).
bool verify_ed25519(const Bytes& key_blob, ByteView message, ByteView signature_blob) {
    const ByteView public_key = codec::ed25519_key_bytes(key_blob);
    WireReader in(signature_blob);
    const std::string_view algorithm = in.text();
    const ByteView sig = in.string();
    in.expect_end("signature");
    return algorithm == codec::ed25519_type && codec::ed25519_verify(public_key, message, sig);
}

}  // namespace

PublicKey PublicKey::from_blob(ByteView blob) {
    if (blob.size() > codec::max_blob_bytes) throw FormatError("public key blob too large");
    WireReader in(blob);
    PublicKey key;
    key.type_ = std::string(in.text());
    key.key_ = codec::read_public(key.type_, in);
    in.expect_end("public key");
    key.blob_.assign(blob.begin(), blob.end());
    // Only canonical encodings (e.g. minimal mpints), so that equal keys have equal blobs.
    if (codec::public_blob(*key.key_) != key.blob_) throw FormatError("public key blob is not canonical");
    return key;
}

PublicKey PublicKey::from_base64(std::string_view type, std::string_view base64) {
    if (base64.size() > (codec::max_blob_bytes / 3 + 1) * 4) throw FormatError("public key too long");
    Botan::secure_vector<std::uint8_t> blob;
    try {
        blob = Botan::base64_decode(base64.data(), base64.size(), false);
    } catch (const Botan::Exception&) {
        throw FormatError("public key is not valid base64");
    }
    PublicKey key = from_blob(blob);
    if (key.type() != type)
        throw FormatError("key type '" + std::string(type.substr(0, 64)) + "' does not match the key blob (" +
                          key.type() + ")");
    return key;
}

const std::string& PublicKey::type() const { return type_; }

const Bytes& PublicKey::blob() const { return blob_; }

std::string PublicKey::fingerprint() const {
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    auto digest = sha256->process(blob_);
    std::string b64 = Botan::base64_encode(digest);
    while (!b64.empty() && b64.back() == '=') b64.pop_back();
    return "SHA256:" + b64;
}

std::size_t PublicKey::bits() const {
    if (type_ == codec::rsa_type) return dynamic_cast<const Botan::RSA_PublicKey&>(*key_).get_n().bits();
    if (const codec::EcdsaCurve* curve = codec::ecdsa_curve(type_)) return curve->bits;
    return 256;
}

std::string PublicKey::type_label() const {
    if (type_ == codec::ed25519_type) return "ED25519";
    if (codec::ecdsa_curve(type_)) return "ECDSA";
    return "RSA";
}

std::uint64_t signature_verifications() noexcept { return verify_calls.load(std::memory_order_relaxed); }

bool PublicKey::verify(ByteView message, ByteView signature) const {
    verify_calls.fetch_add(1, std::memory_order_relaxed);
    try {
        if (type_ == codec::ed25519_type) return verify_ed25519(blob_, message, signature);
        auto sig = decode_signature(*this, *key_, signature);
        if (!sig) return false;
        Botan::PK_Verifier verifier(*key_, sig->padding, Botan::IEEE_1363);
        return verifier.verify_message(message.data(), message.size(), sig->bytes.data(), sig->bytes.size());
    } catch (const std::exception&) {
        return false;  // malformed blob or a value Botan rejects
    }
}

std::string PublicKey::to_line(std::string_view comment) const {
    std::string line = type_ + " " + Botan::base64_encode(blob_);
    if (!comment.empty()) line.append(" ").append(comment);
    return line;
}

bool operator==(const PublicKey& a, const PublicKey& b) { return a.blob_ == b.blob_; }

}  // namespace authchain::openssh
