// OpenSSH StrictModes for key files (DESIGN rule 7).
#pragma once

#include <filesystem>

namespace authchain::openssh {

// Refuses (throws std::runtime_error with a message naming the path and the
// fix, like OpenSSH's "Permissions 0644 for 'id' are too open") a file that
// is writable by group or others, owned by another user (other than root),
// or not a regular file; and a parent directory writable by group or others
// (unless it has the sticky bit, as /tmp, where others cannot replace the
// file). With is_private=true, also a file readable (any access) by group
// or others. Symbolic links are followed.
void check_file_mode(const std::filesystem::path& path, bool is_private);

// The directory half of check_file_mode, for a file about to be created at
// `path`: its directory ("." when none is given) must be owned by the user or
// root and not writable by group or others (unless sticky).
void check_directory_of(const std::filesystem::path& path);

}  // namespace authchain::openssh
