// PrivateKey: generation, signing, and the file formats it reads and writes.
#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/detail/ed25519.hpp>
#include <authchain/auth/openssh/detail/key_codec.hpp>
#include <authchain/auth/openssh/pem_key.hpp>
#include <authchain/auth/openssh/private_key_file.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/auth/openssh/whole_file.hpp>

#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pubkey.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <stdexcept>

namespace authchain::openssh {

PrivateKey::PrivateKey(std::unique_ptr<Botan::Private_Key> key, std::string comment)
    : key_(std::move(key)), comment_(std::move(comment)) {
    if (!key_) throw FormatError("no private key");
    codec::check_private(*key_);
    public_ = PublicKey::from_blob(codec::public_blob(*key_));
    if (public_.type() == codec::ed25519_type) {
        // Botan holds seed || public key; libsodium derives its own public
        // key from the seed, and it must be the one the blob carries.
        const auto& secret = dynamic_cast<const Botan::Ed25519_PrivateKey&>(*key_).get_private_key();
        ed25519_ = std::make_unique<const codec::Ed25519Secret>(ByteView(secret).first(codec::ed25519_seed_bytes));
        const ByteView derived = ed25519_->public_key();
        const ByteView carried = codec::ed25519_key_bytes(public_.blob());
        if (!std::equal(derived.begin(), derived.end(), carried.begin(), carried.end()))
            throw FormatError("Ed25519 private key does not match its public key");
    }
}

PrivateKey::PrivateKey(PrivateKey&&) noexcept = default;
PrivateKey& PrivateKey::operator=(PrivateKey&&) noexcept = default;
PrivateKey::~PrivateKey() = default;

const Botan::Private_Key& PrivateKey::botan_key() const { return *key_; }

PrivateKey PrivateKey::generate_ed25519() {
    return PrivateKey(std::make_unique<Botan::Ed25519_PrivateKey>(Botan::system_rng()), "");
}

PrivateKey PrivateKey::generate_ecdsa_p256() { return generate_ecdsa(256); }

PrivateKey PrivateKey::generate_ecdsa(std::size_t bits) {
    const codec::EcdsaCurve* curve = codec::ecdsa_curve_of_bits(bits);
    if (!curve) throw std::invalid_argument("ECDSA key size must be 256, 384 or 521 bits");
    return PrivateKey(std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), codec::ecdsa_group(*curve)),
                      "");
}

PrivateKey PrivateKey::generate_rsa(std::size_t bits) {
    if (bits < 2048 || bits > 8192) throw std::invalid_argument("RSA key size must be 2048..8192 bits");
    return PrivateKey(std::make_unique<Botan::RSA_PrivateKey>(Botan::system_rng(), bits), "");
}

PrivateKey PrivateKey::parse(std::string_view file_text, std::optional<std::string_view> passphrase) {
    return parse(file_text, passphrase, default_max_kdf_rounds);
}

PrivateKey PrivateKey::parse(std::string_view file_text, std::optional<std::string_view> passphrase,
                             unsigned max_kdf_rounds) {
    if (is_openssh_private_key(file_text)) {
        OpensshPrivateKey parsed = parse_openssh_private(file_text, passphrase, max_kdf_rounds);
        return PrivateKey(std::move(parsed.key), std::move(parsed.comment));
    }
    return PrivateKey(parse_pem_private(file_text, passphrase), "");
}

PrivateKey PrivateKey::load(const std::filesystem::path& path, std::optional<std::string_view> passphrase) {
    FileDescriptor file = open_checked(path, true);  // checked and read: the same descriptor
    Botan::secure_vector<char> text;
    switch (read_fd_bounded(file.get(), max_private_key_text, text)) {
        case ReadStatus::ok:
            break;
        case ReadStatus::too_large:
            throw FormatError("private key file '" + path.string() + "' is too large");
        case ReadStatus::cannot_open:
        case ReadStatus::cannot_read:
            throw std::runtime_error("cannot read private key '" + path.string() + "'");
    }
    try {
        return parse(std::string_view(text.data(), text.size()), passphrase);
    } catch (const FormatError& e) {
        throw FormatError(path.string() + ": " + e.what());
    }
}

PublicKey PrivateKey::public_key() const { return public_; }

const std::string& PrivateKey::comment() const { return comment_; }

Bytes PrivateKey::sign(ByteView message) const {
    auto& rng = Botan::system_rng();
    WireWriter out;
    const std::string& type = public_.type();
    if (type == codec::ed25519_type) {
        out.string(type).string(ed25519_->sign(message));
    } else if (const codec::EcdsaCurve* curve = codec::ecdsa_curve(type)) {
        Botan::PK_Signer signer(*key_, rng, std::string(curve->padding), Botan::IEEE_1363);
        auto rs = signer.sign_message(message.data(), message.size(), rng);  // r || s, scalar_bytes each
        ByteView view(rs);
        WireWriter inner;
        inner.mpint(view.first(rs.size() / 2)).mpint(view.subspan(rs.size() / 2));
        out.string(type).string(inner.data());
    } else {
        Botan::PK_Signer signer(*key_, rng, "EMSA3(SHA-512)");
        out.string("rsa-sha2-512").string(signer.sign_message(message.data(), message.size(), rng));
    }
    return out.bytes();
}

std::string PrivateKey::to_openssh(std::string_view comment, std::optional<std::string_view> passphrase) const {
    return write_openssh_private(*key_, comment, passphrase);
}

}  // namespace authchain::openssh
