// Prerequisites of a test (tools on PATH, root). A test whose prerequisite is
// missing fails, unless AUTHCHAIN_TEST_SKIP_MISSING=1 asks to skip it; then
// it is skipped and counted as skipped (doctest's "skipped" column). Use both:
//
//   TEST_CASE("x" * doctest::skip(test::skip_missing({"redis-server"}))) {
//       test::require_tools({"redis-server"});
//
// The decorator is evaluated when the case registers; without the variable
// it never skips, and require_tools then fails the case naming the tools.
// (Header-only: test-support is also linked by the benchmarks, which have no
// doctest runner.)
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/run.hpp"

namespace authchain::test {

// AUTHCHAIN_TEST_SKIP_MISSING=1
inline bool skip_missing_requested() {
    const char* v = std::getenv("AUTHCHAIN_TEST_SKIP_MISSING");
    return v != nullptr && std::string(v) == "1";
}

// `command -v tool`
inline bool have_tool(const std::string& tool) {
    for (char c : tool)  // a name, not a command line
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '+'))
            throw std::invalid_argument("not a tool name: " + tool);
    return shell("command -v '" + tool + "' >/dev/null") == 0;
}

inline std::vector<std::string> missing_tools(const std::vector<std::string>& tools) {
    std::vector<std::string> out;
    for (const auto& t : tools)
        if (!have_tool(t)) out.push_back(t);
    return out;
}

// For doctest::skip(): true only when skipping was requested and a tool is missing.
inline bool skip_missing(const std::vector<std::string>& tools) {
    return skip_missing_requested() && !missing_tools(tools).empty();
}

// In a test case: FAILs naming the missing tools.
inline void require_tools(const std::vector<std::string>& tools) {
    auto missing = missing_tools(tools);
    if (missing.empty()) return;
    std::string names;
    for (const auto& m : missing) names += (names.empty() ? "" : ", ") + m;
    FAIL("not installed: " << names
                           << " (install it, or set AUTHCHAIN_TEST_SKIP_MISSING=1 to skip the tests that need it)");
}

// ssh-keygen (Debian openssh-client), which the interop and CLI tests compare with.
inline bool skip_without_ssh_keygen() { return skip_missing({"ssh-keygen"}); }
inline void require_ssh_keygen() { require_tools({"ssh-keygen"}); }

// For doctest::skip(): true only when skipping was requested and we are not root.
inline bool skip_unless_root() { return skip_missing_requested() && ::geteuid() != 0; }

// In a test case: FAILs when not root.
inline void require_root() {
    if (::geteuid() != 0)
        FAIL("needs root (run as root, or set AUTHCHAIN_TEST_SKIP_MISSING=1 to skip the tests that need it)");
}

}  // namespace authchain::test
