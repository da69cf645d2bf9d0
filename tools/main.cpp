// The authchain command: keygen, fingerprint, passwd, gate, tunnel, probe, ca.
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

#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/openssh/passphrase.hpp>
#include "tools/ca_ssh_sign.hpp"
#include "tools/passphrase_prompt.hpp"
#include <authchain/compose/text.hpp>
#include <authchain/transport/secure_channel.hpp>
#include "tools/ca.hpp"
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
    std::string file, comment, passphrase, passphrase_file, type = "ed25519";
    std::string psk_file, psk_id;  // keygen --psk PATH [--id ID]
    std::size_t bits = 0;
    bool ask_passphrase = false;
    bool overwrite = false;
    bool comment_given = false;
};

// -N, --passphrase-file or --ask-passphrase (asked twice, as ssh-keygen); none: unencrypted.
openssh::Passphrase::Secret keygen_passphrase(const Keygen& k) {
    if (!k.passphrase_file.empty()) {
        auto secret = openssh::Passphrase::from_file(k.passphrase_file).get();
        return secret ? std::move(*secret) : openssh::Passphrase::Secret{};
    }
    if (k.ask_passphrase) {
        auto first = prompt_passphrase("Enter passphrase (empty for no passphrase): ");
        auto second = prompt_passphrase("Enter same passphrase again: ");
        if (first != second) throw std::runtime_error("passphrases do not match");
        return first;
    }
    return openssh::Passphrase::Secret(k.passphrase.begin(), k.passphrase.end());
}

// ssh-keygen -b: RSA 2048..8192, ECDSA 256/384/521; Ed25519 has one size.
void check_bits(const Keygen& k) {
    if (k.bits == 0 || k.type == "ed25519") return;
    if (k.type == "rsa" && (k.bits < 2048 || k.bits > 8192))
        throw std::invalid_argument("RSA keys are 2048..8192 bits (-b " + std::to_string(k.bits) + ")");
    if (k.type == "ecdsa" && k.bits != 256 && k.bits != 384 && k.bits != 521)
        throw std::invalid_argument("ECDSA keys are 256, 384 or 521 bits (-b " + std::to_string(k.bits) + ")");
}

int keygen(const Keygen& k) {
    check_bits(k);
    // A missing directory is the user's mistake (exit 2), not a network error.
    const std::filesystem::path dir = std::filesystem::path(k.file).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
        throw std::runtime_error("directory '" + dir.string() + "' does not exist (for " + k.file + ")");
    std::string comment = k.comment_given ? k.comment : default_comment();
    openssh::Passphrase::Secret pass = keygen_passphrase(k);
    std::optional<std::string_view> p;
    if (!pass.empty()) p = std::string_view(pass.data(), pass.size());
    openssh::write_keypair(k.file, comment, p, k.type, k.overwrite, k.bits);
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
    if (check_only) return check_gate(c);
    return run_gate(c);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"authchain: composable authenticators in front of any TCP server.\n"
                 "Exit codes: 0 ok, 2 usage or config error, 3 denied, 4 network error.\n"
                 "Manual: man authchain, man authchain-gate, man authchain-tunnel, man 5 authchain.toml"};
    app.set_version_flag("--version", std::function<std::string()>([] {
        return "authchain " AUTHCHAIN_VERSION "\nAES-GCM of long records: " + authchain::secure_channel_aes_gcm();
    }));
    app.require_subcommand(1);

    Keygen k;
    auto* keygen_cmd = app.add_subcommand(
        "keygen", "Write an OpenSSH key pair (PATH and PATH.pub), as ssh-keygen, or a pre-shared key file (--psk)");
    auto* file_opt =
        keygen_cmd->add_option("-f,--file", k.file, "Private key file to write (PATH.pub gets the public key)");
    auto* psk_opt = keygen_cmd->add_option("--psk", k.psk_file, "Write a fresh pre-shared key file (mode 0600) instead")
                        ->excludes(file_opt);
    keygen_cmd->add_option("--id", k.psk_id, "Key id of the --psk key (default: today, YYYYMMDD)")->needs(psk_opt);
    auto* comment_opt = keygen_cmd->add_option("-C,--comment", k.comment, "Key comment (default: user@host)");
    auto* pass_opt = keygen_cmd->add_option("-N,--passphrase", k.passphrase,
                                            "Encrypt the private key (empty: none; visible in ps, prefer the next two)");
    auto* pass_file_opt = keygen_cmd->add_option("--passphrase-file", k.passphrase_file,
                                                 "Read the passphrase from FILE (mode 0600, final newline dropped)");
    auto* ask_opt = keygen_cmd->add_flag("--ask-passphrase", k.ask_passphrase,
                                         "Ask for the passphrase on the terminal, without echo");
    pass_opt->excludes(pass_file_opt)->excludes(ask_opt);
    pass_file_opt->excludes(ask_opt);
    keygen_cmd->add_option("-b,--bits", k.bits, "Key size: RSA 2048..8192 (default 3072), ECDSA 256, 384 or 521");
    keygen_cmd->add_option("-t,--type", k.type, "Key type")
        ->check(CLI::IsMember({"ed25519", "ecdsa", "rsa"}))
        ->capture_default_str();
    keygen_cmd->add_flag("--force", k.overwrite, "Replace existing files");

    std::string fp_file, fp_passphrase;
    auto* fingerprint_cmd =
        app.add_subcommand("fingerprint", "Print the SHA256 fingerprint(s) of a key file, as ssh-keygen -l");
    fingerprint_cmd->add_option("FILE", fp_file, "Public or private key file, or authorized_keys")->required();
    fingerprint_cmd->add_option("-N,--passphrase", fp_passphrase, "Passphrase of an encrypted PEM key");

    PasswdArgs pw;
    auto* passwd_cmd = app.add_subcommand(
        "passwd", "Edit a password user database: FILE add|remove|check|list [USER]; check exits 3 on a mismatch");
    passwd_cmd->add_option("FILE", pw.file, "User database (user:argon2id-hash per line, mode 0600)")->required();
    passwd_cmd->add_option("ACTION", pw.action, "add, remove, check or list")
        ->required()
        ->check(CLI::IsMember({"add", "remove", "check", "list"}));
    passwd_cmd->add_option("USER", pw.user, "User name (list: only this user)");
    passwd_cmd->add_flag("--force", pw.force, "add: replace the password of an existing user");
    passwd_cmd->add_option("-m,--memory-kib", pw.params.memory_kib, "add: Argon2id memory in KiB")
        ->capture_default_str();
    passwd_cmd->add_option("-t,--iterations", pw.params.iterations, "add: Argon2id iterations")
        ->capture_default_str();
    passwd_cmd->add_option("-p,--parallelism", pw.params.parallelism, "add: Argon2id lanes")
        ->capture_default_str();
    // The CA tools; each subcommand runs in its own callback (tools/ca_*.cpp).

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

    Action action;  // set by subcommands that parse themselves (tools/ca.hpp)
    // The CA tools: init, issue, sign (tools/ca.cpp) and ssh-sign (tools/ca_ssh_sign.cpp).
    CLI::App* ca_cmd = add_ca_command(app, action);
    add_ca_ssh_sign(*ca_cmd);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int rc = app.exit(e);
        return rc == 0 ? exit_ok : exit_usage;
    }

    try {
        if (action) return action();
        // ca ssh-sign ran in its own callback; its errors ended the parse with exit 2.
        if (*ca_cmd) return exit_ok;
        if (*keygen_cmd) {
            if (psk_opt->count() > 0) return keygen_psk(k.psk_file, k.psk_id, k.overwrite);
            if (file_opt->count() == 0) {
                std::cerr << "authchain: keygen needs -f FILE or --psk FILE\n";
                return exit_usage;
            }
            k.comment_given = comment_opt->count() > 0;
            return keygen(k);
        }
        if (*fingerprint_cmd) {
            std::cout << openssh::fingerprint_line(fp_file, maybe(fp_passphrase)) << "\n";
            return exit_ok;
        }
        if (*passwd_cmd) return run_passwd(pw);
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
