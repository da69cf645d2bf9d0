#include <authchain/auth/openssh/private_key_file.hpp>

#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/openssh/detail/key_codec.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

#include <botan/aead.h>
#include <botan/base64.h>
#include <botan/cipher_mode.h>
#include <botan/mac.h>
#include <botan/mem_ops.h>
#include <botan/pwdhash.h>
#include <botan/stream_cipher.h>
#include <botan/system_rng.h>

#include <array>

namespace authchain::openssh {

namespace {

constexpr std::string_view begin_mark = "-----BEGIN OPENSSH PRIVATE KEY-----";
constexpr std::string_view end_mark = "-----END OPENSSH PRIVATE KEY-----";
constexpr std::string_view auth_magic{"openssh-key-v1\0", 15};
constexpr std::size_t base64_columns = 70;
constexpr std::size_t salt_bytes = 16;
constexpr std::size_t max_salt_bytes = 1024;

enum class Mode { none, ctr, cbc, gcm, chachapoly };

struct CipherSpec {
    std::string_view name;
    Mode mode;
    std::size_t key_len;
    std::size_t iv_len;
    std::size_t block;
    std::size_t tag_len;
};

constexpr std::array<CipherSpec, 10> ciphers{{
    {"none", Mode::none, 0, 0, 8, 0},
    {"aes128-ctr", Mode::ctr, 16, 16, 16, 0},
    {"aes192-ctr", Mode::ctr, 24, 16, 16, 0},
    {"aes256-ctr", Mode::ctr, 32, 16, 16, 0},
    {"aes128-cbc", Mode::cbc, 16, 16, 16, 0},
    {"aes192-cbc", Mode::cbc, 24, 16, 16, 0},
    {"aes256-cbc", Mode::cbc, 32, 16, 16, 0},
    {"aes128-gcm@openssh.com", Mode::gcm, 16, 12, 16, 16},
    {"aes256-gcm@openssh.com", Mode::gcm, 32, 12, 16, 16},
    // Two 256-bit ChaCha20 keys (main, then length-header key), no IV, 8-byte blocks.
    {"chacha20-poly1305@openssh.com", Mode::chachapoly, 64, 0, 8, 16},
}};

const CipherSpec& cipher_spec(std::string_view name) {
    for (const auto& c : ciphers)
        if (c.name == name) return c;
    throw FormatError("unsupported private key cipher '" + std::string(name.substr(0, 64)) + "'");
}

std::string aes_name(const CipherSpec& c) { return "AES-" + std::to_string(c.key_len * 8); }

using secure_bytes = Botan::secure_vector<std::uint8_t>;

// bcrypt_pbkdf(passphrase, salt, rounds) -> key || iv.
secure_bytes derive(const CipherSpec& c, std::string_view passphrase, ByteView salt, unsigned rounds) {
    secure_bytes out(c.key_len + c.iv_len);
    auto family = Botan::PasswordHashFamily::create_or_throw("Bcrypt-PBKDF");
    family->from_iterations(rounds)->derive_key(out.data(), out.size(), passphrase.data(), passphrase.size(),
                                                salt.data(), salt.size());
    return out;
}

// chacha20-poly1305@openssh.com as OpenSSH's cipher-chachapoly.c runs it for
// key files (sequence number 0, no encrypted length header, so only the
// main key, the first 32 of the 64 key bytes, is used): the Poly1305 key is
// the first 32 bytes of ChaCha20(main key, nonce 0, block 0); the data is
// XORed with ChaCha20(main key, nonce 0) from block 1; the tag is
// Poly1305(poly key, ciphertext) and is checked before anything is decrypted.
void apply_chachapoly(const secure_bytes& key, secure_bytes& data, bool encrypt) {
    constexpr std::size_t main_key_bytes = 32, poly_key_bytes = 32, tag_bytes = 16, block_bytes = 64;
    const std::array<std::uint8_t, 8> nonce{};  // the big-endian sequence number 0
    auto chacha = Botan::StreamCipher::create_or_throw("ChaCha(20)");
    chacha->set_key(key.data(), main_key_bytes);
    chacha->set_iv(nonce.data(), nonce.size());
    secure_bytes poly_key(poly_key_bytes, 0);
    chacha->cipher1(poly_key.data(), poly_key.size());
    auto poly = Botan::MessageAuthenticationCode::create_or_throw("Poly1305");
    poly->set_key(poly_key);
    if (!encrypt) {
        if (data.size() < tag_bytes) throw Botan::Invalid_Authentication_Tag("chacha20-poly1305: no tag");
        const std::size_t n = data.size() - tag_bytes;
        poly->update(data.data(), n);
        const secure_bytes tag = poly->final();
        if (!Botan::constant_time_compare(tag.data(), data.data() + n, tag_bytes))
            throw Botan::Invalid_Authentication_Tag("chacha20-poly1305: tag mismatch");
        data.resize(n);
    }
    chacha->seek(block_bytes);  // block counter 1
    chacha->cipher1(data.data(), data.size());
    if (encrypt) {
        poly->update(data.data(), data.size());
        const secure_bytes tag = poly->final();
        data.insert(data.end(), tag.begin(), tag.end());
    }
}

// Decrypts (or encrypts) `data` in place; for GCM, `data` carries the tag at its end on decryption
// and gets it appended on encryption. Throws Botan::Invalid_Authentication_Tag on a bad GCM tag.
void apply_cipher(const CipherSpec& c, const secure_bytes& key_iv, secure_bytes& data, bool encrypt) {
    const std::uint8_t* key = key_iv.data();
    const std::uint8_t* iv = key_iv.data() + c.key_len;
    switch (c.mode) {
    case Mode::none:
        return;
    case Mode::chachapoly:
        apply_chachapoly(key_iv, data, encrypt);
        return;
    case Mode::ctr: {
        auto ctr = Botan::StreamCipher::create_or_throw("CTR-BE(" + aes_name(c) + ")");
        ctr->set_key(key, c.key_len);
        ctr->set_iv(iv, c.iv_len);
        ctr->cipher1(data.data(), data.size());
        return;
    }
    case Mode::cbc:
    case Mode::gcm: {
        const auto dir = encrypt ? Botan::ENCRYPTION : Botan::DECRYPTION;
        std::unique_ptr<Botan::Cipher_Mode> mode =
            c.mode == Mode::cbc ? Botan::Cipher_Mode::create_or_throw(aes_name(c) + "/CBC/NoPadding", dir)
                                : Botan::Cipher_Mode::create_or_throw(aes_name(c) + "/GCM", dir);
        mode->set_key(key, c.key_len);
        mode->start(iv, c.iv_len);
        mode->finish(data);
        return;
    }
    }
}

secure_bytes unarmor(std::string_view text) {
    if (text.size() > max_private_key_text) throw FormatError("private key file too large");
    std::size_t begin = text.find(begin_mark);
    if (begin == std::string_view::npos) throw FormatError("not an OpenSSH private key");
    std::string_view rest = text.substr(begin + begin_mark.size());
    std::size_t end = rest.find(end_mark);
    if (end == std::string_view::npos) throw FormatError("OpenSSH private key: missing END line");
    Botan::secure_vector<char> b64;  // the text of an unencrypted key is secret
    for (char ch : rest.substr(0, end))
        if (ch != '\n' && ch != '\r' && ch != ' ' && ch != '\t') b64.push_back(ch);
    try {
        return Botan::base64_decode(b64.data(), b64.size(), false);
    } catch (const Botan::Exception&) {
        throw FormatError("OpenSSH private key: invalid base64");
    }
}

// The unencrypted outer structure.
struct Outer {
    const CipherSpec* cipher;
    ByteView salt;
    unsigned rounds = 0;
    ByteView public_blob;
    ByteView encrypted;  // with the GCM tag appended
};

Outer read_outer(ByteView file) {
    WireReader in(file);
    if (in.remaining() < auth_magic.size() || as_text(in.raw(auth_magic.size())) != auth_magic)
        throw FormatError("OpenSSH private key: bad magic");
    Outer o;
    o.cipher = &cipher_spec(in.text());
    std::string_view kdf = in.text();
    WireReader kdf_options(in.string());
    if (kdf == "none") {
        if (o.cipher->mode != Mode::none || !kdf_options.empty())
            throw FormatError("OpenSSH private key: cipher without KDF");
    } else if (kdf == "bcrypt") {
        if (o.cipher->mode == Mode::none) throw FormatError("OpenSSH private key: KDF without cipher");
        o.salt = kdf_options.string();
        o.rounds = kdf_options.u32();
        kdf_options.expect_end("bcrypt options");
        if (o.salt.empty() || o.salt.size() > max_salt_bytes) throw FormatError("OpenSSH private key: bad salt");
    } else {
        throw FormatError("unsupported private key KDF '" + std::string(kdf.substr(0, 64)) + "'");
    }
    if (in.u32() != 1) throw FormatError("OpenSSH private key: files with several keys are not supported");
    o.public_blob = in.string();
    ByteView section = in.string();
    if (section.empty() || section.size() % o.cipher->block != 0)
        throw FormatError("OpenSSH private key: section length is not a multiple of the cipher block");
    ByteView tag = in.raw(o.cipher->tag_len);
    in.expect_end("private key");
    o.encrypted = ByteView(section.data(), section.size() + tag.size());  // tag follows the section
    return o;
}

}  // namespace

bool is_openssh_private_key(std::string_view text) { return text.find(begin_mark) != std::string_view::npos; }

Bytes openssh_public_blob(std::string_view text) {
    secure_bytes file = unarmor(text);
    ByteView blob = read_outer(file).public_blob;
    return Bytes(blob.begin(), blob.end());
}

OpensshPrivateKey parse_openssh_private(std::string_view text, std::optional<std::string_view> passphrase,
                                        unsigned max_kdf_rounds) {
    secure_bytes file = unarmor(text);
    Outer o = read_outer(file);
    PublicKey header_key = PublicKey::from_blob(o.public_blob);
    const bool encrypted = o.cipher->mode != Mode::none;
    secure_bytes plain(o.encrypted.begin(), o.encrypted.end());
    if (encrypted) {
        if (!passphrase || passphrase->empty()) throw FormatError("passphrase required");
        if (o.rounds == 0 || o.rounds > max_kdf_rounds)
            throw FormatError("OpenSSH private key: bcrypt rounds " + std::to_string(o.rounds) + " outside 1.." +
                              std::to_string(max_kdf_rounds));
        secure_bytes key_iv = derive(*o.cipher, *passphrase, o.salt, o.rounds);
        try {
            apply_cipher(*o.cipher, key_iv, plain, false);
        } catch (const Botan::Invalid_Authentication_Tag&) {
            throw FormatError("wrong passphrase");
        }
    }
    WireReader in(plain);
    std::uint32_t check1 = in.u32();
    std::uint32_t check2 = in.u32();
    if (check1 != check2)
        throw FormatError(encrypted ? "wrong passphrase" : "OpenSSH private key: check integers differ");
    std::string_view type = in.text();
    if (type != header_key.type()) throw FormatError("OpenSSH private key: type differs from public key");
    OpensshPrivateKey out;
    out.key = codec::read_private(type, in);
    out.comment = std::string(in.text());
    // Padding 1, 2, 3, ... shorter than one block.
    if (in.remaining() >= o.cipher->block) throw FormatError("OpenSSH private key: bad padding");
    for (std::uint8_t i = 1; !in.empty(); ++i)
        if (in.u8() != i) throw FormatError("OpenSSH private key: bad padding");
    if (codec::public_blob(*out.key) != header_key.blob())
        throw FormatError("OpenSSH private key: private key does not match public key");
    return out;
}

std::string write_openssh_private(const Botan::Private_Key& key, std::string_view comment,
                                  std::optional<std::string_view> passphrase, unsigned kdf_rounds) {
    const bool encrypt = passphrase && !passphrase->empty();
    const CipherSpec& cipher = cipher_spec(encrypt ? "aes256-ctr" : "none");
    auto& rng = Botan::system_rng();

    WireWriter section;
    std::uint32_t check = 0;
    rng.randomize(reinterpret_cast<std::uint8_t*>(&check), sizeof check);
    section.u32(check).u32(check);
    codec::write_private(key, section);
    section.string(comment);
    for (std::uint8_t i = 1; section.data().size() % cipher.block != 0; ++i) section.u8(i);

    WireWriter kdf_options;
    if (encrypt) {
        secure_bytes salt = rng.random_vec(salt_bytes);
        kdf_options.string(salt).u32(kdf_rounds);
        apply_cipher(cipher, derive(cipher, *passphrase, salt, kdf_rounds), section.data(), true);
    }

    WireWriter file;
    file.raw(as_bytes(auth_magic))
        .string(cipher.name)
        .string(encrypt ? "bcrypt" : "none")
        .string(kdf_options.data())
        .u32(1)
        .string(codec::public_blob(key))
        .string(section.data());
    std::string b64 = Botan::base64_encode(file.data());  // unencrypted keys: a secret, wiped below
    std::string text = std::string(begin_mark) + "\n";
    text.reserve(text.size() + b64.size() + b64.size() / base64_columns + end_mark.size() + 3);
    for (std::size_t i = 0; i < b64.size(); i += base64_columns) {
        text.append(b64, i, base64_columns);
        text += '\n';
    }
    text += end_mark;
    text += '\n';
    wipe(b64);
    return text;
}

}  // namespace authchain::openssh
