// The long-running subcommands of the authchain command (tools/gate.cpp,
// tools/tunnel.cpp, tools/probe.cpp). Each returns the process exit code:
// 0 ok, 2 usage or config error, 3 denied, 4 network error.
#pragma once

#include <authchain/auth/password/user_database.hpp>
#include "config/config.hpp"

namespace authchain::tools {

// The command is built on the config wing: its types are the command's vocabulary.
using namespace authchain::config;

// Listens on config.listen, runs each connection through config.chain,
// then connects to config.backend and pumps bytes both ways.
int run_gate(const GateConfig& config);
// Listens on config.listen; per local connection connects to
// config.server, runs the client chain, then pumps bytes both ways.
int run_tunnel(const TunnelConfig& config);
// Connects to config.server once, runs the client chain, prints who the
// server proved to be and the outcome.
int run_probe(const TunnelConfig& config);
// gate --check (tools/check.cpp): prints the skipped lines of the key files,
// refuses (2) a config file writable by others or a `user` that does not
// exist, then prints every setting that matters (PROXY v2, audit log,
// user, allow rules, limits); 0 when the gate could start.
int check_gate(const GateConfig& config);
// keygen --psk: writes a fresh key file (auth/psk.hpp) at `path`, key id
// `id` (empty: today's date, YYYYMMDD); refuses an existing file unless `overwrite`.
int keygen_psk(const std::string& path, const std::string& id, bool overwrite);

// authchain passwd FILE ACTION [USER] (tools/passwd.cpp).
struct PasswdArgs {
    std::string file;
    std::string action;  // add, remove, check, list
    std::string user;    // empty for list: every user
    bool force = false;  // add: replace an existing user's password
    userdb::Argon2Params params = userdb::owasp_argon2id;  // add: the new hash's cost
};
// Exit 0 ok; 2 usage, input or file error (printed; the file is as it
// was), an existing user for add without force, a missing one for remove;
// 3 check mismatch (wrong password or no such user).
int run_passwd(const PasswdArgs& args);

}  // namespace authchain::tools
