// Reading a password typed by a person (authchain passwd, authchain probe)
// or piped in by a script: one line, never echoed, held in wiped memory.
#pragma once

#include <optional>
#include <string_view>

#include <authchain/auth/password/user_database.hpp>

namespace authchain::userdb {

// Reads one line from `fd`. When `fd` is a terminal, turns echo off
// (discarding what was typed ahead), writes `prompt` to `prompt_fd`, and
// restores echo once the line is read (the newline still shows). Otherwise reads one line without a prompt
// (for scripts: `printf '%s\n' "$pw" | authchain passwd ...`). Reads byte by
// byte (nothing of the input is buffered beyond the line). The final "\n"
// (and a "\r" before it) is removed. Returns nullopt at end of input before
// any byte. Throws std::runtime_error for a line longer than max_password
// bytes or a read error.
std::optional<Secret> read_secret_line(int fd, std::string_view prompt, int prompt_fd = 2);

// True when `fd` is a terminal.
bool is_terminal(int fd);

}  // namespace authchain::userdb
