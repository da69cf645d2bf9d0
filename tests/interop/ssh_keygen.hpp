// Shared by the ssh-keygen interop tests: running ssh-keygen command lines
// that must succeed. (The prerequisite is in tests/support/prerequisites.hpp.)
#pragma once

#include <doctest/doctest.h>

#include <string>

#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"

namespace authchain::test {

// `s` as one single-quoted shell word.
inline std::string quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs a command that must succeed; returns its output without the final newline.
inline std::string run_ok(const std::string& command) {
    std::string out;
    int status = shell(command, &out);
    INFO(command << "\n" << out);
    REQUIRE(status == 0);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
}

}  // namespace authchain::test
