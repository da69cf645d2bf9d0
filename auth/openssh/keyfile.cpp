#include <authchain/auth/openssh/keyfile.hpp>

#include <authchain/auth/openssh/authorized_keys.hpp>
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/key_lines.hpp>
#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/openssh/private_key_file.hpp>
#include <authchain/auth/openssh/whole_file.hpp>
#include <authchain/compose/text.hpp>

#include <cerrno>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace authchain::openssh {

namespace {

constexpr std::size_t max_key_file = 1024 * 1024;

bool path_exists(const std::filesystem::path& p) {
    std::error_code ec;
    return std::filesystem::symlink_status(p, ec).type() != std::filesystem::file_type::not_found;
}

// The file's text; nullopt when it cannot be opened or read (errno tells why).
std::optional<std::string> read_bounded(const std::filesystem::path& path) {
    std::string text;
    switch (read_file_bounded(path, max_key_file, text)) {
        case ReadStatus::ok:
            return text;
        case ReadStatus::too_large:
            throw std::runtime_error("'" + path.string() + "' is too large");
        case ReadStatus::cannot_open:
        case ReadStatus::cannot_read:
            break;
    }
    return std::nullopt;
}

// As OpenSSH sshkey_read: "type <blanks> base64 <blanks>"; on success `s` is left at the comment.
// A key of a type OpenSSH knows but authchain does not read (ssh-dss, sk-*)
// leaves its message in `unsupported`, so that a file of such keys is not
// called "not a public key file".
std::optional<PublicKey> read_key(std::string_view& s, std::optional<std::string>* unsupported = nullptr) {
    std::string_view rest = s;
    std::string_view type = take_word(rest);
    if (type.size() == s.size()) return std::nullopt;  // the type must be followed by a blank
    std::string_view b64 = take_word(rest);
    if (b64.empty()) return std::nullopt;
    try {
        PublicKey key = PublicKey::from_base64(type, b64);
        s = rest;
        return key;
    } catch (const FormatError& e) {
        if (unsupported && !*unsupported && is_key_type_name(type) &&
            std::string_view(e.what()).find("is not supported") != std::string_view::npos)
            *unsupported = e.what();
        return std::nullopt;
    }
}

std::string format_line(const PublicKey& key, const std::optional<std::string>& comment) {
    return std::to_string(key.bits()) + " " + key.fingerprint() + " " + (comment ? *comment : "no comment") + " (" +
           key.type_label() + ")";
}

// As ssh-keygen's do_fingerprint: plain keys, authorized_keys options or known_hosts names before the key.
std::vector<std::string> fingerprint_public_lines(std::string_view text, std::optional<std::string>& unsupported) {
    std::vector<std::string> out;
    for (std::string_view line : lines_of(text)) {
        std::string_view cp = skip_blanks(line);
        if (cp.empty() || cp.front() == '#') continue;
        std::optional<std::string> comment;
        std::optional<PublicKey> key = read_key(cp, &unsupported);
        if (!key) {
            // Skip one leading field (options, quoted parts kept together) unless it is a number (SSH1 bits).
            std::size_t digits = 0;
            while (digits < cp.size() && cp[digits] >= '0' && cp[digits] <= '9') ++digits;
            const bool ssh1 = digits > 0 && digits < cp.size() && is_blank(cp[digits]) &&
                              cp.substr(0, digits).find_first_not_of('0') != std::string_view::npos;
            if (!ssh1) {
                std::optional<std::size_t> length = options_length(cp);
                if (!length || *length >= cp.size()) continue;
                comment = std::string(cp.substr(0, *length));  // ssh-keygen prints the options when there is no comment
                cp = cp.substr(*length + 1);
            }
            key = read_key(cp, &unsupported);
            if (!key) continue;
        }
        if (!cp.empty() && cp.front() != '#') comment = std::string(cp);
        out.push_back(format_line(*key, comment));
    }
    return out;
}

// As OpenSSH sshkey_try_load_public: the first plain key line; the comment
// defaults to the file name.
std::optional<std::pair<PublicKey, std::string>> load_public_file(const std::filesystem::path& path) {
    auto text = read_bounded(path);
    if (!text) return std::nullopt;
    for (std::string_view line : lines_of(*text)) {
        if (line.empty() || line.front() == '#') continue;
        if (line.substr(0, 10) == "-----BEGIN") break;
        std::string_view cp = skip_blanks(line);
        if (cp.empty()) continue;
        if (auto key = read_key(cp)) {
            cp = cp.substr(0, cp.find_first_of("\r\n"));
            return std::make_pair(*key, cp.empty() ? path.string() : std::string(cp));
        }
    }
    return std::nullopt;
}

// As ssh-keygen's fingerprint_private.
std::string fingerprint_private_file(const std::filesystem::path& path, std::string_view text,
                                     std::optional<std::string_view> passphrase) {
    std::optional<PublicKey> key;
    std::optional<std::string> comment;
    if (auto pub = load_public_file(std::filesystem::path(path.string() + ".pub"))) {
        key = pub->first;
        comment = pub->second;
    }
    std::optional<std::string> unsupported;
    if (!key && is_openssh_private_key(text)) {
        try {
            key = PublicKey::from_blob(openssh_public_blob(text));
        } catch (const FormatError& e) {
            if (std::string_view(e.what()).find("is not supported") != std::string_view::npos) unsupported = e.what();
        }
    }
    if (!key || !comment || comment->empty()) {
        try {
            PrivateKey priv = PrivateKey::parse(text);  // succeeds only for unencrypted files
            if (!key) key = priv.public_key();
            comment = is_openssh_private_key(text) ? std::optional<std::string>(priv.comment()) : std::nullopt;
        } catch (const FormatError&) {
        }
    }
    if (!key && passphrase) {
        PrivateKey priv = PrivateKey::parse(text, passphrase);
        key = priv.public_key();
        if (is_openssh_private_key(text)) comment = priv.comment();
    }
    if (!key && unsupported) throw std::runtime_error(path.string() + ": " + *unsupported);
    if (!key) throw std::runtime_error(path.string() + " is not a key file.");
    return format_line(*key, comment);
}

}  // namespace

void write_keypair(const std::filesystem::path& path, std::string_view comment,
                   std::optional<std::string_view> passphrase, std::string_view type, bool overwrite,
                   std::size_t bits) {
    if (comment.find_first_of("\r\n") != std::string_view::npos)
        throw std::invalid_argument("a key comment cannot contain a line break");
    const std::filesystem::path pub_path(path.string() + ".pub");
    if (!overwrite) {
        for (const auto& p : {path, pub_path})
            if (path_exists(p)) throw std::runtime_error("'" + p.string() + "' already exists; not overwriting it");
    }
    PrivateKey key = type == "ed25519" ? PrivateKey::generate_ed25519()
                     : type == "ecdsa" ? PrivateKey::generate_ecdsa(bits == 0 ? 256 : bits)
                     : type == "rsa"   ? PrivateKey::generate_rsa(bits == 0 ? 3072 : bits)
                                       : throw std::invalid_argument("unknown key type '" + std::string(type) +
                                                                     "' (use ed25519, ecdsa or rsa)");
    std::string private_text = key.to_openssh(comment, passphrase);
    try {
        write_file_atomically(path, private_text, 0600);
    } catch (...) {
        wipe(private_text);
        throw;
    }
    wipe(private_text);
    write_file_atomically(pub_path, key.public_key().to_line(comment) + "\n", 0644);
}

std::string fingerprint_line(const std::filesystem::path& path, std::optional<std::string_view> passphrase) {
    auto text = read_bounded(path);
    if (!text) throw std::runtime_error("cannot read '" + path.string() + "': " + std::generic_category().message(errno));
    std::vector<std::string_view> lines = lines_of(*text);
    if (!lines.empty()) {
        std::string_view first = skip_blanks(lines.front());
        if (!first.empty() && first.front() != '#' && first.find("PRIVATE KEY") != std::string_view::npos)
            return fingerprint_private_file(path, *text, passphrase);
    }
    std::optional<std::string> unsupported;
    std::vector<std::string> out = fingerprint_public_lines(*text, unsupported);
    if (out.empty() && unsupported) throw std::runtime_error(path.string() + ": " + *unsupported);
    if (out.empty()) throw std::runtime_error(path.string() + " is not a public key file.");
    return join(out, "\n");
}

}  // namespace authchain::openssh
