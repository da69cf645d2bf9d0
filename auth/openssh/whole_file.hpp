// Whole files, read and written in one piece: a bounded read (nothing past
// a size cap is kept) and an atomic replace (DESIGN rule 8: a reader sees
// the old content or the new, never a partial file). No mode checks here:
// a caller that needs StrictModes opens with open_checked (file_mode.hpp)
// and reads that descriptor with read_fd_bounded.
#pragma once

#include <sys/types.h>

#include <botan/secmem.h>

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace authchain::openssh {

enum class ReadStatus {
    ok,
    cannot_open,  // errno tells why
    cannot_read,  // errno tells why
    too_large,    // more than max_size bytes
};

// Reads all of `path` into `out` (replacing its content), refusing a file of
// more than `max_size` bytes. The stack buffer is wiped, so the file may be a
// secret (pass a secure_vector then). On anything but ok, `out` is wiped and
// left empty, and errno keeps the reason of cannot_open / cannot_read, so
// each caller words its own error.
ReadStatus read_file_bounded(const std::filesystem::path& path, std::size_t max_size, std::string& out);
ReadStatus read_file_bounded(const std::filesystem::path& path, std::size_t max_size,
                             Botan::secure_vector<char>& out);

// The same from an open descriptor (e.g. open_checked's), read from its
// current offset; the descriptor stays open.
ReadStatus read_fd_bounded(int fd, std::size_t max_size, std::string& out);
ReadStatus read_fd_bounded(int fd, std::size_t max_size, Botan::secure_vector<char>& out);

// Replaces `path` with `content`, atomically: a temp file ".NAME.tmpXXXXXX"
// in the same directory (created exclusively, mode 0600) gets `mode` and
// `content`, is fsynced, closed and renamed over `path`; then the directory
// is fsynced (best effort). On failure the temp file is removed and `path`
// is as it was. Throws std::system_error naming the file.
void write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode);

}  // namespace authchain::openssh
