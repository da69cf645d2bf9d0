#include "tools/ca_ssh_sign.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <authchain/auth/openssh/certificate_sign.hpp>
#include <authchain/auth/openssh/key_lines.hpp>
#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/openssh/whole_file.hpp>

namespace authchain::tools {

namespace {

struct SshSign {
    std::string ca_key, ca_passphrase_file, key_id, principals, validity = "24h", public_key;
    std::uint64_t serial = 0;
    bool host = false;
    std::vector<std::string> options;
};

// "30m", "24h", "7d", "3600" (seconds), optionally with a leading '+'.
std::chrono::seconds parse_lifetime(std::string text) {
    if (!text.empty() && text.front() == '+') text.erase(0, 1);
    std::uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    std::string_view unit(end, static_cast<std::size_t>(text.data() + text.size() - end));
    const std::uint64_t scale = unit.empty() || unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600
                                : unit == "d"                ? 86400 : unit == "w" ? 604800 : 0;
    if (ec != std::errc() || n == 0 || scale == 0 || n > (std::uint64_t{1} << 40) / scale)
        throw std::invalid_argument("validity \"" + text + "\": expected a duration like 30m, 24h or 7d");
    return std::chrono::seconds(static_cast<std::int64_t>(n * scale));
}

// The first key line of a .pub file.
openssh::PublicKey read_public(const std::string& path) {
    std::string text;
    if (openssh::read_file_bounded(path, 64 * 1024, text) != openssh::ReadStatus::ok)
        throw std::runtime_error("cannot read '" + path + "'");
    std::string_view line = text;
    line = line.substr(0, line.find('\n'));
    std::string_view type = openssh::take_word(line);
    std::string_view base64 = openssh::take_word(line);
    try {
        return openssh::PublicKey::from_base64(type, base64);
    } catch (const openssh::FormatError& e) {
        throw std::runtime_error(path + ": " + e.what());
    }
}

// -O source-address=LIST, -O force-command=CMD (as ssh-keygen); others refused.
void add_option(openssh::CertificateRequest& r, const std::string& option) {
    const auto eq = option.find('=');
    const std::string name = option.substr(0, eq);
    if ((name == "source-address" || name == "force-command") && eq != std::string::npos)
        r.critical_options.push_back(openssh::string_option(name, option.substr(eq + 1)));
    else if (name == "verify-required" && eq == std::string::npos)
        r.critical_options.push_back({name, {}});
    else
        throw std::invalid_argument("-O " + option + ": supported are source-address=LIST, force-command=CMD, "
                                    "verify-required");
}

void sign(const SshSign& s) {
    openssh::Passphrase passphrase;
    if (!s.ca_passphrase_file.empty()) passphrase = openssh::Passphrase::from_file(s.ca_passphrase_file);
    openssh::PrivateKey ca = openssh::load_private_key(s.ca_key, passphrase);
    openssh::PublicKey key = read_public(s.public_key);
    std::vector<std::string> principals;
    for (std::string_view rest = s.principals; !rest.empty();) {
        const auto comma = rest.find(',');
        if (comma != 0) principals.emplace_back(rest.substr(0, comma));
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    auto request = openssh::certificate_request(s.host ? openssh::CertificateType::host : openssh::CertificateType::user,
                                                s.key_id, std::move(principals), parse_lifetime(s.validity));
    request.serial = s.serial;
    for (const auto& o : s.options) add_option(request, o);
    if (s.host && !request.critical_options.empty())
        throw std::invalid_argument("host certificates have no critical options");
    openssh::Certificate cert = openssh::sign_certificate(key, request, ca);

    std::string out = s.public_key;
    if (out.size() > 4 && out.ends_with(".pub")) out.resize(out.size() - 4);
    out += "-cert.pub";
    openssh::write_file_atomically(out, cert.to_line(s.key_id) + "\n", 0644);
    std::cout << "Signed " << (s.host ? "host" : "user") << " key " << out << ": id \"" << s.key_id
              << "\" serial " << s.serial << " for " << (s.principals.empty() ? "(no principals)" : s.principals)
              << " valid for " << s.validity << ", CA " << ca.public_key().fingerprint() << "\n";
}

}  // namespace

void add_ca_ssh_sign(CLI::App& ca) {
    auto s = std::make_shared<SshSign>();
    auto* cmd = ca.add_subcommand("ssh-sign", "Sign an OpenSSH user or host certificate (as ssh-keygen -s)");
    cmd->set_help_flag("--help", "Print this help message and exit");  // -h is --host, as ssh-keygen
    cmd->add_option("-s,--ca-key", s->ca_key, "CA private key (OpenSSH, PKCS#8 or PEM; mode 0600)")->required();
    cmd->add_option("--ca-passphrase-file", s->ca_passphrase_file, "Passphrase of the CA key, from FILE (0600)");
    cmd->add_option("-I,--key-id", s->key_id, "Key id recorded in the certificate and in logs")->required();
    cmd->add_option("-n,--principals", s->principals, "Comma-separated user or host names");
    cmd->add_flag("-h,--host", s->host, "A host certificate (default: user)");
    cmd->add_option("-V,--validity", s->validity, "Lifetime from now: 30m, 24h, 7d (default 24h)")
        ->capture_default_str();
    cmd->add_option("-z,--serial", s->serial, "Serial number");
    cmd->add_option("-O,--option", s->options, "source-address=LIST, force-command=CMD or verify-required");
    cmd->add_option("PUBKEY", s->public_key, "Public key to certify (writes PUBKEY-cert.pub)")->required();
    cmd->callback([s] {
        try {
            sign(*s);
        } catch (const std::exception& e) {
            std::cerr << "authchain: ca ssh-sign: " << e.what() << "\n";
            throw CLI::RuntimeError(2);
        }
    });
}

}  // namespace authchain::tools
