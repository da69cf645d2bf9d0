// `authchain ca init|issue|sign` (tools/ca.hpp).
#include "tools/ca.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/whole_file.hpp>
#include <authchain/auth/tls_ca.hpp>
#include "config/values.hpp"

namespace authchain::tools {

namespace {

constexpr int ca_exit_ok = 0;

struct LeafFlags {
    std::string dir, name, out, renew_within;
    bool server = false, client = false;
    std::vector<std::string> dns, ip, uri;
    long hours = 24, max_hours = 720;
};

void add_leaf_flags(CLI::App* cmd, LeafFlags& f, bool name_required) {
    cmd->add_option("DIR", f.dir, "The CA directory (ca.crt, ca.key)")->required();
    auto* name = cmd->add_option("--name", f.name, "Common name, and the file name NAME.crt / NAME.key");
    if (name_required) name->required();
    auto* server = cmd->add_flag("--server", f.server, "A server certificate (extended key usage serverAuth)");
    auto* client = cmd->add_flag("--client", f.client, "A client certificate (extended key usage clientAuth)");
    server->excludes(client);
    cmd->add_option("--dns", f.dns, "A DNS name (subject alternative name); repeatable");
    cmd->add_option("--ip", f.ip, "An IPv4 address (subject alternative name); repeatable");
    cmd->add_option("--uri", f.uri, "A URI (subject alternative name); repeatable");
    cmd->add_option("--hours", f.hours, "Lifetime in hours")->capture_default_str()->check(CLI::PositiveNumber);
    cmd->add_option("--max-hours", f.max_hours, "Refuse lifetimes beyond this")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    cmd->add_option("--out", f.out, "Directory to write NAME.crt (and NAME.key) into (default: DIR)");
}

ca::LeafRequest request_of(const LeafFlags& f) {
    if (f.server == f.client) throw std::invalid_argument("say --server or --client");
    ca::LeafRequest r;
    r.name = f.name;
    r.purpose = f.server ? ca::Purpose::server : ca::Purpose::client;
    r.dns = f.dns;
    r.ip = f.ip;
    r.uri = f.uri;
    r.lifetime = std::chrono::hours(f.hours);
    r.max_lifetime = std::chrono::hours(f.max_hours);
    return r;
}

std::filesystem::path out_dir(const LeafFlags& f) { return f.out.empty() ? f.dir : f.out; }

int issue(const LeafFlags& f) {
    ca::LeafRequest request = request_of(f);
    if (auto why = ca::leaf_request_error(request); !why.empty()) throw std::invalid_argument(why);
    ca::Authority authority = ca::load_authority(f.dir);
    const auto crt = out_dir(f) / (f.name + ".crt");
    if (!f.renew_within.empty()) {
        const auto within = config::parse_duration(f.renew_within);
        std::string current;
        if (openssh::read_file_bounded(crt, 256 * 1024, current) == openssh::ReadStatus::ok &&
            std::filesystem::exists(out_dir(f) / (f.name + ".key")) && ca::still_valid(authority, current, within)) {
            std::cout << crt.string() << ": still valid beyond " << f.renew_within << ", left alone\n";
            return ca_exit_ok;
        }
    }
    ca::write_issued(out_dir(f), f.name, ca::issue(authority, request));
    std::cout << "wrote " << crt.string() << " and " << (out_dir(f) / (f.name + ".key")).string() << " (valid "
              << f.hours << " hours)\n";
    return ca_exit_ok;
}

int sign(const LeafFlags& f, const std::string& csr_file) {
    std::string csr;
    if (openssh::read_file_bounded(csr_file, 256 * 1024, csr) != openssh::ReadStatus::ok)
        throw std::runtime_error("cannot read " + csr_file);
    ca::Authority authority = ca::load_authority(f.dir);
    ca::Issued issued = ca::sign_request(authority, csr, request_of(f));
    ca::write_issued(out_dir(f), issued.name, issued);
    std::cout << "wrote " << (out_dir(f) / (issued.name + ".crt")).string() << " (valid " << f.hours << " hours)\n";
    return ca_exit_ok;
}

}  // namespace

CLI::App* add_ca_command(CLI::App& app, Action& action) {
    auto* ca_cmd = app.add_subcommand("ca", "A private CA for TLS with short-lived certificates (docs/tls.md)");
    ca_cmd->require_subcommand(1);

    auto init_dir = std::make_shared<std::string>();
    auto init_name = std::make_shared<std::string>("authchain CA");
    auto* init = ca_cmd->add_subcommand("init", "Make a CA: DIR/ca.key (ECDSA P-256, 0600) and DIR/ca.crt");
    init->add_option("DIR", *init_dir, "Directory for the CA (created 0700)")->required();
    init->add_option("--name", *init_name, "The CA's common name")->capture_default_str();
    init->callback([&action, init_dir, init_name] {
        action = [init_dir, init_name] {
            ca::init_authority(*init_dir, {.name = *init_name});
            std::cout << "wrote " << (std::filesystem::path(*init_dir) / "ca.key").string() << " and "
                      << (std::filesystem::path(*init_dir) / "ca.crt").string() << "\n";
            return ca_exit_ok;
        };
    });

    auto issue_flags = std::make_shared<LeafFlags>();
    auto* issue_cmd = ca_cmd->add_subcommand("issue", "Make a key and a certificate signed by the CA");
    add_leaf_flags(issue_cmd, *issue_flags, true);
    issue_cmd->add_option("--renew-if-within", issue_flags->renew_within,
                          "Leave NAME.crt alone while it stays valid this long (e.g. 8h): for cron and timers");
    issue_cmd->callback([&action, issue_flags] { action = [issue_flags] { return issue(*issue_flags); }; });

    auto sign_flags = std::make_shared<LeafFlags>();
    auto csr_file = std::make_shared<std::string>();
    auto* sign_cmd = ca_cmd->add_subcommand("sign", "Sign a CSR made elsewhere (openssl req); extensions are ours");
    add_leaf_flags(sign_cmd, *sign_flags, false);
    sign_cmd->add_option("CSR", *csr_file, "PEM certificate request")->required();
    sign_cmd->callback([&action, sign_flags, csr_file] {
        action = [sign_flags, csr_file] { return sign(*sign_flags, *csr_file); };
    });
    return ca_cmd;
}

}  // namespace authchain::tools
