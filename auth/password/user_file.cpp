// The user database file: read with StrictModes, rewritten atomically.
#include <sys/stat.h>

#include <cerrno>
#include <mutex>
#include <stdexcept>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/whole_file.hpp>
#include <authchain/auth/password/user_database.hpp>

namespace authchain::userdb {

namespace {

std::string read_text(const std::filesystem::path& path) {
    openssh::FileDescriptor file = openssh::open_checked(path, /*is_private=*/true);
    std::string text;
    switch (openssh::read_fd_bounded(file.get(), max_user_database_size, text)) {
        case openssh::ReadStatus::ok:
            return text;
        case openssh::ReadStatus::too_large:
            throw std::runtime_error(path.string() + " is larger than " + std::to_string(max_user_database_size) +
                                     " bytes");
        default:
            throw std::runtime_error("cannot read " + path.string());
    }
}

// The current text, or "" for a file that does not exist yet (its
// directory is checked then, as for a file about to be created).
std::string read_or_empty(const std::filesystem::path& path) {
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) return read_text(path);
    if (errno != ENOENT) throw std::runtime_error("cannot stat " + path.string());
    openssh::check_directory_of(path);
    return {};
}

// Edits from one process are serialized; the rename makes each atomic.
std::mutex& edit_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

UserDatabase read_user_database(const std::filesystem::path& path) {
    return parse_user_database(read_text(path), path.string());
}

Change set_user(const std::filesystem::path& path, std::string_view user, std::string_view password,
                const Argon2Params& params, bool replace) {
    if (auto e = user_name_error(user); !e.empty()) throw std::runtime_error(e);
    if (password.empty()) throw std::runtime_error("empty password");
    if (password.size() > max_password)
        throw std::runtime_error("password longer than " + std::to_string(max_password) + " bytes");
    std::lock_guard lock(edit_mutex());
    std::string text = read_or_empty(path);
    bool exists = parse_user_database(text, path.string()).find(user) != nullptr;
    if (exists && !replace)
        throw std::runtime_error("user \"" + std::string(user) + "\" already exists in " + path.string() +
                                 " (use --force to set a new password)");
    std::string phc = hash_password(password, params);
    openssh::write_file_atomically(path, with_user(text, user, phc), 0600);
    return exists ? Change::replaced : Change::added;
}

Change remove_user(const std::filesystem::path& path, std::string_view user) {
    std::lock_guard lock(edit_mutex());
    std::string text = read_text(path);
    std::string edited = without_user(text, user);
    if (edited == text) return Change::unchanged;
    openssh::write_file_atomically(path, edited, 0600);
    return Change::removed;
}

}  // namespace authchain::userdb
