#include "auth/openssh/file_mode.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>

namespace authchain::openssh {

namespace {

std::string octal(mode_t mode) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
    return buf;
}

struct stat stat_or_throw(const std::filesystem::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw std::runtime_error("cannot access '" + path.string() + "': " + std::strerror(errno));
    return st;
}

void check_owner(const struct stat& st, const std::filesystem::path& path) {
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        throw std::runtime_error("Bad owner on '" + path.string() + "': owned by uid " + std::to_string(st.st_uid) +
                                 "; it must be owned by you or root.");
}

}  // namespace

void check_file_mode(const std::filesystem::path& path, bool is_private) {
    const struct stat st = stat_or_throw(path);
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
    check_directory_of(path);
}

void check_directory_of(const std::filesystem::path& path) {
    const std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    const struct stat dst = stat_or_throw(dir);
    check_owner(dst, dir);
    if ((dst.st_mode & 022) != 0 && (dst.st_mode & S_ISVTX) == 0)
        throw std::runtime_error("Bad permissions " + octal(dst.st_mode) + " on directory '" + dir.string() +
                                 "' holding '" + path.string() +
                                 "': it must not be writable by group or others. Fix: chmod go-w '" + dir.string() +
                                 "'");
}

}  // namespace authchain::openssh
