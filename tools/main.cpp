// The authchain command: keygen, fingerprint, gate, tunnel, probe.
// Exit codes: 0 ok, 2 usage or config error, 3 denied, 4 network error.
#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <array>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>

#include "auth/openssh/keyfile.hpp"
#include "compose/text.hpp"
#include "tools/commands.hpp"
#include "tools/service.hpp"
#include "config/config.hpp"
#include "config/registry.hpp"

#ifndef AUTHCHAIN_VERSION
#define AUTHCHAIN_VERSION "unknown"
#endif

namespace {

using namespace authchain;
using namespace authchain::tools;
using namespace authchain::config;

constexpr int exit_ok = 0, exit_usage = 2, exit_network = 4;

std::optional<std::string_view> maybe(const std::string& passphrase) {
    if (passphrase.empty()) return std::nullopt;
    return passphrase;
}

// ssh-keygen's default comment: user@host (from the password database, not the environment).
std::string default_comment() {
    std::string user = "user";
    if (const passwd* pw = ::getpwuid(::getuid()); pw && pw->pw_name) user = pw->pw_name;
    std::array<char, 256> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) return user;
    return user + "@" + host.data();
}

std::string chain_summary(const CommonConfig& c) {
    return c.layer_names.empty() ? "(no layers)" : join(c.layer_names, " | ");
}

// DESIGN: safe defaults. A gate that proves nobody is allowed, but said loudly.
void warn_if_unauthenticated(const GateConfig& c) {
    if (chain_authenticates(c.layer_names)) return;
    std::cerr << "authchain: WARNING: " << c.file.string()
              << ": no layer authenticates the peer (no public_key, password, psk or tls);\n"
              << "authchain: WARNING: anyone who can reach " << c.listen.to_string() << " gets through to "
              << c.backend.to_string() << "\n";
}

struct Keygen {
    std::string file, comment, passphrase, type = "ed25519";
    bool overwrite = false;
    bool comment_given = false;
};

int keygen(const Keygen& k) {
    std::string comment = k.comment_given ? k.comment : default_comment();
    openssh::write_keypair(k.file, comment, maybe(k.passphrase), k.type, k.overwrite);
    std::cout << "Your identification has been saved in " << k.file << "\n"
              << "Your public key has been saved in " << k.file << ".pub\n"
              << "The key fingerprint is:\n"
              << openssh::fingerprint_line(k.file + ".pub") << "\n";
    return exit_ok;
}

int tunnel(const std::string& file, bool check_only) {
    TunnelConfig c = load_tunnel_config(file, TunnelCommand::tunnel);
    if (check_only) {
        report_warnings("tunnel", c, nullptr);
        std::cout << file << ": ok: " << c.listen.to_string() << " -> " << c.server.to_string() << " via "
                  << chain_summary(c) << "\n";
        return exit_ok;
    }
    return run_tunnel(c);
}

int gate(const std::string& file, bool check_only) {
    GateConfig c = load_gate_config(file);
    warn_if_unauthenticated(c);
    if (check_only) {
        report_warnings("gate", c, nullptr);
        std::cout << file << ": ok: " << c.listen.to_string() << " -> " << c.backend.to_string() << " via "
                  << chain_summary(c) << (c.allow.empty() ? "" : " | allow") << "\n";
        return exit_ok;
    }
    return run_gate(c);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"authchain: composable authenticators in front of any TCP server.\n"
                 "Exit codes: 0 ok, 2 usage or config error, 3 denied, 4 network error.\n"
                 "Manual: man authchain, man authchain-gate, man authchain-tunnel, man 5 authchain.toml"};
    app.set_version_flag("--version", "authchain " AUTHCHAIN_VERSION);
    app.require_subcommand(1);

    Keygen k;
    auto* keygen_cmd = app.add_subcommand("keygen", "Write an OpenSSH key pair (PATH and PATH.pub), as ssh-keygen");
    keygen_cmd->add_option("-f,--file", k.file, "Private key file to write (PATH.pub gets the public key)")
        ->required();
    auto* comment_opt = keygen_cmd->add_option("-C,--comment", k.comment, "Key comment (default: user@host)");
    keygen_cmd->add_option("-N,--passphrase", k.passphrase, "Encrypt the private key (empty: none)");
    keygen_cmd->add_option("-t,--type", k.type, "Key type")
        ->check(CLI::IsMember({"ed25519", "ecdsa", "rsa"}))
        ->capture_default_str();
    keygen_cmd->add_flag("--force", k.overwrite, "Replace existing files");

    std::string fp_file, fp_passphrase;
    auto* fingerprint_cmd =
        app.add_subcommand("fingerprint", "Print the SHA256 fingerprint(s) of a key file, as ssh-keygen -l");
    fingerprint_cmd->add_option("FILE", fp_file, "Public or private key file, or authorized_keys")->required();
    fingerprint_cmd->add_option("-N,--passphrase", fp_passphrase, "Passphrase of an encrypted PEM key");

    std::string config_file;
    bool check_only = false;
    auto add_run = [&](const char* name, const char* help, const char* config_help) {
        auto* cmd = app.add_subcommand(name, help);
        cmd->add_option("-c,--config", config_file, config_help)->required();
        if (std::string_view(name) != "probe")
            cmd->add_flag("--check", check_only, "Only load and check the config, print a summary, exit");
        return cmd;
    };
    auto* gate_cmd = add_run("gate", "Listen, authenticate each connection, forward it to the backend",
                             "Gate config (TOML, see docs/config.md)");
    auto* tunnel_cmd = add_run("tunnel", "Listen locally, authenticate to a gate, forward each connection",
                               "Tunnel config (TOML, see docs/config.md)");
    auto* probe_cmd = add_run("probe", "Authenticate to a gate once and print who it proved to be",
                              "Tunnel config (TOML; listen is not needed)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? exit_ok : exit_usage;
    }

    try {
        if (*keygen_cmd) {
            k.comment_given = comment_opt->count() > 0;
            return keygen(k);
        }
        if (*fingerprint_cmd) {
            std::cout << openssh::fingerprint_line(fp_file, maybe(fp_passphrase)) << "\n";
            return exit_ok;
        }
        if (*gate_cmd) return gate(config_file, check_only);
        if (*tunnel_cmd) return tunnel(config_file, check_only);
        if (*probe_cmd) return run_probe(load_tunnel_config(config_file, TunnelCommand::probe));
    } catch (const ConfigError& e) {
        std::cerr << "authchain: " << e.what() << "\n";
        return exit_usage;
    } catch (const std::system_error& e) {
        std::cerr << "authchain: " << e.what() << "\n";
        return exit_network;
    } catch (const std::exception& e) {
        // keygen and fingerprint: a file the user named is missing, exists, or is not a key.
        std::cerr << "authchain: " << e.what() << "\n";
        return exit_usage;
    }
    return exit_usage;
}
