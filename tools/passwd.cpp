// authchain passwd FILE add|remove|check|list [USER]: the password layer's
// user database, edited as a file the gate re-reads on SIGHUP. The hashing
// and the file rules are the library's (auth/password/user_database.hpp).
// Exit 0 ok; 2 usage, file or input error (and `add` of an existing user
// without --force, `remove` of a missing one); 3 `check` mismatch.
#include <cstdio>
#include <iostream>
#include <stdexcept>

#include <authchain/auth/password/secret_input.hpp>
#include "tools/commands.hpp"

namespace authchain::tools {

namespace {

constexpr int exit_ok = 0, exit_usage = 2, exit_mismatch = 3;

// The password: asked twice on a terminal (no echo), one line otherwise.
userdb::Secret read_password(const std::string& user, bool confirm) {
    std::string prompt = (confirm ? "New password for " : "Password for ") + user + ": ";
    auto first = userdb::read_secret_line(0, prompt);
    if (!first || first->empty()) throw std::runtime_error("no password given");
    if (confirm && userdb::is_terminal(0)) {
        auto again = userdb::read_secret_line(0, "Retype new password: ");
        if (!again || *again != *first) throw std::runtime_error("the passwords do not match; nothing changed");
    }
    return std::move(*first);
}

void print_warnings(const std::vector<std::string>& warnings) {
    for (const auto& w : warnings) std::cerr << "authchain passwd: WARNING: " << w << "\n";
}

std::string_view as_view(const userdb::Secret& s) { return {s.data(), s.size()}; }

int add(const PasswdArgs& a) {
    if (userdb::weaker_than(a.params, userdb::owasp_argon2id))
        std::cerr << "authchain passwd: WARNING: " << userdb::to_string(a.params)
                  << " is weaker than OWASP's minimum for Argon2id (" << userdb::to_string(userdb::owasp_argon2id)
                  << "); a gate with the default min_memory_kib reports it\n";
    if (auto e = userdb::params_error(a.params); !e.empty()) throw std::runtime_error("Argon2id parameters: " + e);
    if (auto e = userdb::user_name_error(a.user); !e.empty()) throw std::runtime_error(e);
    userdb::Secret pw = read_password(a.user, /*confirm=*/true);
    auto change = userdb::set_user(a.file, a.user, as_view(pw), a.params, a.force);
    std::cout << (change == userdb::Change::added ? "added user " : "new password for user ") << a.user << " in "
              << a.file << "\n";
    return exit_ok;
}

int remove(const PasswdArgs& a) {
    if (userdb::remove_user(a.file, a.user) == userdb::Change::unchanged) {
        std::cerr << "authchain passwd: no user " << a.user << " in " << a.file << "; nothing changed\n";
        return exit_usage;
    }
    std::cout << "removed user " << a.user << " from " << a.file << "\n";
    return exit_ok;
}

int check(const PasswdArgs& a) {
    userdb::UserDatabase db = userdb::read_user_database(a.file);
    print_warnings(db.warnings);
    print_warnings(userdb::weak_hash_warnings(db, userdb::owasp_argon2id));
    userdb::Secret pw = read_password(a.user, /*confirm=*/false);
    const userdb::UserEntry* entry = db.find(a.user);
    if (!entry) {
        std::cout << "no user " << a.user << " in " << a.file << "\n";
        return exit_mismatch;
    }
    if (!userdb::verify_password(as_view(pw), entry->phc)) {
        std::cout << "wrong password for user " << a.user << "\n";
        return exit_mismatch;
    }
    std::cout << "ok: the password of user " << a.user << " matches\n";
    return exit_ok;
}

int list(const PasswdArgs& a) {
    userdb::UserDatabase db = userdb::read_user_database(a.file);
    print_warnings(db.warnings);
    for (const auto& e : db.entries) {
        if (!a.user.empty() && e.user != a.user) continue;
        std::cout << e.user << " argon2id " << userdb::to_string(e.params)
                  << (userdb::weaker_than(e.params, userdb::owasp_argon2id) ? " (weaker than OWASP's minimum)" : "")
                  << "\n";
    }
    if (!a.user.empty() && !db.find(a.user)) {
        std::cerr << "authchain passwd: no user " << a.user << " in " << a.file << "\n";
        return exit_usage;
    }
    return exit_ok;
}

}  // namespace

int run_passwd(const PasswdArgs& a) {
    if (a.action != "list" && a.user.empty()) {
        std::cerr << "authchain passwd: " << a.action << " needs a USER\n";
        return exit_usage;
    }
    try {
        if (a.action == "add") return add(a);
        if (a.action == "remove") return remove(a);
        if (a.action == "check") return check(a);
        if (a.action == "list") return list(a);
    } catch (const std::exception& e) {  // a refused file or input, a failed write: the file is as it was
        std::cerr << "authchain passwd: " << e.what() << "\n";
        return exit_usage;
    }
    std::cerr << "authchain passwd: unknown action " << a.action << " (add, remove, check, list)\n";
    return exit_usage;
}

}  // namespace authchain::tools
