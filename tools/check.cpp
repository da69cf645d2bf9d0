// gate --check: loads the config (as the gate would), then checks what a
// start would only find out late or never, and prints every setting that
// decides what the backend sees.
#include <pwd.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <string>

#include <authchain/compose/text.hpp>
#include "tools/commands.hpp"
#include "tools/service.hpp"

namespace authchain::tools {

namespace {

// The config file decides who gets in: refuse it writable by others, as
// the key files are (DESIGN rule 7); group-writable is only warned about.
bool config_mode_ok(const GateConfig& c) {
    struct stat st {};
    if (::stat(c.file.c_str(), &st) != 0) {
        std::cerr << "authchain gate: " << c.file.string() << ": " << std::strerror(errno) << "\n";
        return false;
    }
    if (st.st_mode & S_IWOTH) {
        std::cerr << "authchain gate: " << c.file.string()
                  << ": writable by others: anyone could change who gets in (chmod o-w)\n";
        return false;
    }
    if (st.st_mode & S_IWGRP)
        std::cerr << "authchain gate: WARNING: " << c.file.string() << ": writable by its group\n";
    return true;
}

// The privilege-drop user must exist, or the gate would fail at start.
bool user_ok(const GateConfig& c) {
    if (!c.user) return true;
    errno = 0;
    if (::getpwnam(c.user->c_str()) != nullptr) return true;
    std::cerr << "authchain gate: " << c.file.string() << ": user: no such user \"" << *c.user << "\"\n";
    return false;
}

std::string audit_target(const std::string& audit_log) {
    if (audit_log.empty()) return "none";
    if (audit_log == "-") return "stdout";
    return audit_log;
}

}  // namespace

int check_gate(const GateConfig& c) {
    report_warnings("gate", c, nullptr);
    const bool mode_ok = config_mode_ok(c);
    const bool user_exists = user_ok(c);  // both checked, both reported
    if (!mode_ok || !user_exists) return 2;
    std::cout << c.file.string() << ": ok: " << c.listen.to_string() << " -> " << c.backend.to_string() << " via "
              << (c.layer_names.empty() ? std::string("(no layers)") : join(c.layer_names, " | "))
              << (c.allow.empty() ? "" : " | allow") << "\n";
    std::cout << "  proxy_protocol: "
              << (c.proxy_protocol ? *c.proxy_protocol + " (the backend reads the client's address and identity)"
                                   : std::string("off (the backend sees the gate's address)"))
              << "\n";
    std::cout << "  audit_log: " << audit_target(c.audit_log) << "\n";
    std::cout << "  user: " << (c.user ? *c.user + " (privileges dropped after binding)"
                                       : std::string("not set (runs as the user who starts it)"))
              << "\n";
    std::cout << "  allow rules: " << c.allow.size() << "\n";
    std::cout << "  handshake_timeout: " << c.handshake_timeout.count() << " ms, max_connections: "
              << c.max_connections << ", max_connections_per_source: "
              << (c.max_connections_per_source ? std::to_string(c.max_connections_per_source)
                                               : std::string("default"))
              << "\n";
    std::cout << "  multiplex: "
              << (c.multiplex ? "on (max_connections counts channels; up to " +
                                    std::to_string(c.multiplex_max_streams) + " streams per channel, window " +
                                    std::to_string(c.multiplex_window) + " bytes; the tunnel must say multiplex = true)"
                              : std::string("off"))
              << "\n";
    return 0;
}

}  // namespace authchain::tools
