// A guard in front of toml++ 3.3 (Debian's version): its parser reaches
// TOML_UNREACHABLE (undefined behaviour) when it asks whether some non-ASCII
// characters are whitespace (U+00A1..U+0499 and U+2BBE..U+2FB7 but U+3000),
// which it does for quoted keys and for multi-line strings after a
// line-ending backslash. So non-ASCII bytes are accepted in comments only;
// strings spell such characters as \uXXXX escapes. Pure, fuzzed with the
// config readers (tests/fuzz/fuzz_config.cpp).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace authchain::config {

// The 1-based line of the first byte >= 0x80 outside a TOML comment, or
// nullopt when there is none. Tracks basic, literal and multi-line strings
// so that '#' inside a string does not start a comment.
std::optional<std::size_t> non_ascii_outside_comments(std::string_view text);

}  // namespace authchain::config
