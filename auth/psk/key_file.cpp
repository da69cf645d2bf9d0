// PSK key files: parsing (pure), reading under StrictModes, writing a fresh one.
#include <sys/stat.h>

#include <botan/base64.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <system_error>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/whole_file.hpp>
#include <authchain/auth/psk.hpp>

namespace authchain {

namespace {

[[noreturn]] void bad_line(std::string_view source, std::size_t line, std::string_view why) {
    throw std::runtime_error(std::string(source) + ":" + std::to_string(line) + ": " + std::string(why));
}

std::string_view trim(std::string_view s) {
    auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// The key of one line's base64 text, wiped on every path out.
Botan::secure_vector<std::uint8_t> decode_key(std::string_view text, std::string_view source, std::size_t line) {
    if (text.empty()) bad_line(source, line, "no key after the id");
    // Bounded before decoding: 1024 bytes are at most 1368 base64 characters.
    if (text.size() > (psk_max_key_bytes + 2) / 3 * 4)
        bad_line(source, line, "key longer than " + std::to_string(psk_max_key_bytes) + " bytes");
    Botan::secure_vector<std::uint8_t> key;
    try {
        key = Botan::base64_decode(text.data(), text.size(), false);
    } catch (const std::exception&) {
        bad_line(source, line, "the key is not valid base64");
    }
    if (key.size() < psk_min_key_bytes)
        bad_line(source, line, "key of " + std::to_string(key.size()) + " bytes is too short (at least " +
                                   std::to_string(psk_min_key_bytes) + "; `authchain keygen --psk` makes one)");
    if (key.size() > psk_max_key_bytes)
        bad_line(source, line, "key longer than " + std::to_string(psk_max_key_bytes) + " bytes");
    return key;
}

}  // namespace

const PskKey* PskKeyFile::find(std::string_view id) const {
    auto it = std::find_if(keys.begin(), keys.end(), [&](const PskKey& k) { return k.id == id; });
    return it == keys.end() ? nullptr : &*it;
}

bool valid_psk_id(std::string_view id) {
    if (id.empty() || id.size() > psk_max_id_length) return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '@' || c == '-';
    });
}

PskKeyFile parse_psk_keys(std::string_view text, std::string_view source) {
    PskKeyFile out;
    std::size_t line_number = 0;
    while (!text.empty()) {
        ++line_number;
        auto end = text.find('\n');
        std::string_view line = trim(text.substr(0, end));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
        if (line.empty() || line.front() == '#') continue;
        auto colon = line.find(':');
        if (colon == std::string_view::npos) bad_line(source, line_number, "expected id:base64key");
        std::string_view id = trim(line.substr(0, colon));
        if (!valid_psk_id(id))
            bad_line(source, line_number, "invalid key id (1 to 64 of A-Z a-z 0-9 . _ @ -)");
        if (out.find(id)) bad_line(source, line_number, "key id \"" + std::string(id) + "\" given twice");
        out.keys.push_back({std::string(id), decode_key(trim(line.substr(colon + 1)), source, line_number)});
    }
    if (out.keys.empty()) throw std::runtime_error(std::string(source) + ": no key");
    return out;
}

PskKeyFile read_psk_key_file(const std::filesystem::path& path) {
    // The descriptor checked (private: 0600 or stricter) is the one read.
    openssh::FileDescriptor file = openssh::open_checked(path, true);
    Botan::secure_vector<char> text;
    switch (openssh::read_fd_bounded(file.get(), psk_max_key_file, text)) {
        case openssh::ReadStatus::ok:
            break;
        case openssh::ReadStatus::too_large:
            throw std::runtime_error(path.string() + " is larger than " + std::to_string(psk_max_key_file) + " bytes");
        default:
            throw std::runtime_error("cannot read " + path.string() + ": " + std::generic_category().message(errno));
    }
    return parse_psk_keys(std::string_view(text.data(), text.size()), path.string());
}

void write_psk_key_file(const std::filesystem::path& path, std::string_view id, bool overwrite) {
    if (!valid_psk_id(id))
        throw std::runtime_error("invalid key id \"" + std::string(id) + "\" (1 to 64 of A-Z a-z 0-9 . _ @ -)");
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0 && !overwrite)
        throw std::runtime_error(path.string() + " already exists (give --force to replace it)");
    openssh::check_directory_of(path);
    Botan::secure_vector<std::uint8_t> key(psk_min_key_bytes);
    Botan::system_rng().randomize(key.data(), key.size());
    std::string encoded = Botan::base64_encode(key);
    Botan::secure_vector<char> content;
    std::string_view header = "# authchain psk key file: id:base64key per line (keep it 0600)\n";
    content.insert(content.end(), header.begin(), header.end());
    content.insert(content.end(), id.begin(), id.end());
    content.push_back(':');
    content.insert(content.end(), encoded.begin(), encoded.end());
    content.push_back('\n');
    Botan::secure_scrub_memory(encoded.data(), encoded.size());
    openssh::write_file_atomically(path, std::string_view(content.data(), content.size()), 0600);
}

}  // namespace authchain
