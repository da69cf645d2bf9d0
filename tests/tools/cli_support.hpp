// Running the authchain binary from the CLI tests (test_cli*.cpp).
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support/run.hpp"

namespace authchain::test::cli_support {

// The binary under test: AUTHCHAIN_BUILD_ROOT/tools/authchain (meson test sets it).
inline std::string binary() {
    const char* root = std::getenv("AUTHCHAIN_BUILD_ROOT");
    REQUIRE(root != nullptr);
    return std::string(root) + "/tools/authchain";
}

// `p` quoted for the shell.
inline std::string arg(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

struct Result {
    int status;
    std::string output;  // stdout and stderr
};

// Runs `authchain ARGS` with stdin from /dev/null.
inline Result cli(const std::string& args) {
    Result r;
    r.status = shell(binary() + " " + args + " </dev/null", &r.output);
    return r;
}

inline bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

}  // namespace authchain::test::cli_support
