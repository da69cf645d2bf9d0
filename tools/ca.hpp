// `authchain ca`: the private CA of auth/tls_ca.hpp on the command line.
// This file only parses flags; the library does the work.
//
//     auto* ca = add_ca_command(app, action);   // init, issue, sign
//     add_ca_ssh_sign(ca, action);              // one more subcommand: one line
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace authchain::tools {

// What the command line chose, run by main inside its error handling
// (a subcommand's callback only sets it). Returns the exit code.
using Action = std::function<int()>;

// Adds `ca` with init, issue and sign to `app`; returns the `ca` App so
// another file can add a subcommand to it the same way.
CLI::App* add_ca_command(CLI::App& app, Action& action);

}  // namespace authchain::tools
