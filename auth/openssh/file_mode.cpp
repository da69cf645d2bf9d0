#include <authchain/auth/openssh/file_mode.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>

namespace authchain::openssh {

namespace {

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

void check_owner(const struct stat& st, const std::filesystem::path& path) {
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw std::runtime_error("Bad owner on '" + path.string() + "': owned by uid " + std::to_string(st.st_uid) +
                                 "; it must be owned by you or root.");
}

}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& o) noexcept {
    if (this != &o) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
}

FileDescriptor::~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
}

FileDescriptor open_checked(const std::filesystem::path& path, bool is_private) {
    if (path.filename().empty()) throw std::runtime_error("'" + path.string() + "' is not a regular file");
    // Opened in the directory that was checked, not through a link that could change since.
    const std::filesystem::path checked = check_safe_directories(path.parent_path()) / path.filename();
    FileDescriptor f(::open(checked.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
    if (f.get() < 0 && errno == ELOOP)
        throw std::runtime_error("'" + path.string() + "' is a symbolic link; refused (not followed)");
    if (f.get() < 0) throw std::runtime_error("cannot access '" + path.string() + "': " + std::generic_category().message(errno));
    struct stat st {};
    if (::fstat(f.get(), &st) != 0)
        throw std::runtime_error("cannot access '" + path.string() + "': " + std::generic_category().message(errno));
    if (!S_ISREG(st.st_mode)) throw std::runtime_error("'" + path.string() + "' is not a regular file");
    check_owner(st, path);
    if (is_private && (st.st_mode & 077) != 0)
        throw std::runtime_error("Permissions " + octal(st.st_mode) + " for '" + path.string() +
                                 "' are too open. It is required that your private key files are NOT "
                                 "accessible by others. Fix: chmod 600 '" + path.string() + "'");
    if ((st.st_mode & 022) != 0)
        throw std::runtime_error("Permissions " + octal(st.st_mode) + " for '" + path.string() +
                                 "' are too open: it must not be writable by group or others. Fix: chmod go-w '" +
                                 path.string() + "'");
    // Reads block as usual from here (O_NONBLOCK was for the open only).
    if (::fcntl(f.get(), F_SETFL, 0) != 0)
        throw std::runtime_error("cannot access '" + path.string() + "': " + std::generic_category().message(errno));
    return f;
}

void check_file_mode(const std::filesystem::path& path, bool is_private) { (void)open_checked(path, is_private); }

void check_directory_of(const std::filesystem::path& path) { check_safe_directories(path.parent_path()); }

std::filesystem::path check_safe_directories(const std::filesystem::path& dir) {
    const std::filesystem::path given = dir.empty() ? std::filesystem::path(".") : dir;
    std::unique_ptr<char, decltype(&std::free)> real(::realpath(given.c_str(), nullptr), &std::free);
    if (!real) throw std::system_error(errno, std::generic_category(), "cannot resolve '" + given.string() + "'");
    std::filesystem::path resolved(real.get());  // not const: returned (moved)
    bool own_directory = true;
    for (std::filesystem::path p = resolved;; p = p.parent_path()) {
        struct stat st {};
        if (::lstat(p.c_str(), &st) != 0)
            throw std::runtime_error("cannot access '" + p.string() + "': " + std::generic_category().message(errno));
        if (!S_ISDIR(st.st_mode)) throw std::runtime_error("'" + p.string() + "' is not a directory");
        check_owner(st, p);
        const bool sticky_root = st.st_uid == 0 && (st.st_mode & S_ISVTX) != 0;
        if ((st.st_mode & 022) != 0 && (own_directory || !sticky_root))
            throw std::runtime_error("Bad permissions " + octal(st.st_mode) + " on directory '" + p.string() +
                                     "' (on the path of '" + given.string() +
                                     "'): it must not be writable by group or others. Fix: chmod go-w '" +
                                     p.string() + "'");
        own_directory = false;
        if (p == p.root_path() || p.parent_path() == p) break;
    }
    return resolved;
}

}  // namespace authchain::openssh
