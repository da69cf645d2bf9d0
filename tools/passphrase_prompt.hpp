// Asking for a passphrase without echo, as ssh-keygen does (tools only).
#pragma once

#include <botan/secmem.h>

#include <string_view>

namespace authchain::tools {

// Writes `prompt` to the controlling terminal (/dev/tty) and reads one line
// from it with echo off; the line break is not part of the result. Echo is
// restored before returning, also when reading fails. Throws
// std::runtime_error when there is no terminal to ask on.
Botan::secure_vector<char> prompt_passphrase(std::string_view prompt);

}  // namespace authchain::tools
