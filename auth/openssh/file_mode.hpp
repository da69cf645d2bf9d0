// OpenSSH StrictModes for key files (DESIGN rule 7).
#pragma once

#include <filesystem>
#include <utility>

namespace authchain::openssh {

// A file descriptor that closes itself.
class FileDescriptor {
public:
    explicit FileDescriptor(int fd = -1) noexcept : fd_(fd) {}
    FileDescriptor(FileDescriptor&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    FileDescriptor& operator=(FileDescriptor&& o) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor();
    int get() const noexcept { return fd_; }

private:
    int fd_;
};

// Opens `path` for reading after OpenSSH's StrictModes checks (DESIGN rules
// 7 and 10), made on what is then read:
//   - its directory and every one above it: check_safe_directories();
//   - the file is opened with O_NOFOLLOW (a symbolic link is refused, not
//     followed) and O_NONBLOCK (a FIFO cannot hang the open);
//   - fstat on the opened descriptor: a regular file, owned by the user or
//     root, not writable by group or others; with is_private=true, not
//     readable (any access) by group or others either.
// Throws std::runtime_error with a message naming the path and the fix, like
// OpenSSH's "Permissions 0644 for 'id' are too open". Read the file from the
// returned descriptor (read_fd_bounded), never by opening the path again.
FileDescriptor open_checked(const std::filesystem::path& path, bool is_private);

// open_checked() for a caller that reads the file itself: the checks only.
// Prefer open_checked: between this check and another open, the file can
// be swapped.
void check_file_mode(const std::filesystem::path& path, bool is_private);

// The directory half of check_file_mode, for a file about to be created at
// `path`: check_safe_directories() of its directory ("." when none is given).
void check_directory_of(const std::filesystem::path& path);

// OpenSSH's safe_path (auth.c auth_secure_path) for `dir`, the directory
// that holds, or will hold, a trusted file: its real path (symlinks
// resolved) and every directory above it up to "/" must be owned by the user
// or root and not writable by group or others. One deviation, so that files
// may live in a private directory under /tmp: ABOVE `dir`, a root-owned
// directory with the sticky bit (/tmp, 1777) is accepted, as there others
// cannot rename or remove the private directory below it. `dir` itself is
// never accepted sticky: others could plant a file in it. Throws
// std::system_error when `dir` cannot be resolved, std::runtime_error naming
// the refused directory. Returns the resolved directory.
std::filesystem::path check_safe_directories(const std::filesystem::path& dir);

}  // namespace authchain::openssh
