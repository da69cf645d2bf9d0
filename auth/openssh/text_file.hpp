// Reading and atomically rewriting the small text files of the OpenSSH
// trust model (authorized_keys, known_hosts), with StrictModes checks.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>

namespace authchain::openssh {

inline constexpr std::size_t max_trust_file_size = 8 * 1024 * 1024;

// Opens the file with open_checked(path, false) (not a symlink, a regular
// file not writable by group or others, every directory up to / safe) and
// reads the whole file from that descriptor. Throws
// std::runtime_error naming the path when the mode is refused, the file
// cannot be read, or it is larger than `max_size`.
std::string read_trusted_file(const std::filesystem::path& path,
                              std::size_t max_size = max_trust_file_size);

// Appends `text` to `path` atomically: a temp file in the same directory
// gets the current content plus `text` (a '\n' is inserted first if the
// content does not end with one), is fsynced and renamed over `path`, and
// the directory is fsynced. A missing file is created with mode 0600; an
// existing one keeps its mode. Refuses (std::runtime_error) a file or
// directory with bad permissions, as read_trusted_file. Appends from one
// process are serialized; concurrent writers in other processes are not
// (the last rename wins).
void append_atomically(const std::filesystem::path& path, std::string_view text);

}  // namespace authchain::openssh
