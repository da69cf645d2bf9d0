#include <authchain/auth/openssh/certificate_check.hpp>

#include <authchain/compose/cidr.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <stdexcept>

namespace authchain::openssh {

namespace {

bool equal_nocase(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}

std::string describe(const Certificate& cert) {
    return "certificate \"" + cert.key_id() + "\" serial " + std::to_string(cert.serial());
}

// source-address: a comma-separated list of CIDR blocks; malformed refuses.
std::optional<std::string> source_address_refusal(const CertificateOption& option, const asio::ip::address& peer) {
    std::string list = option_string(option);
    std::string_view rest = list;
    while (true) {
        const auto comma = rest.find(',');
        std::string_view item = rest.substr(0, comma);
        try {
            if (Cidr::parse(item).contains(normalize(peer))) return std::nullopt;
        } catch (const std::invalid_argument&) {
            return "critical option source-address=\"" + list.substr(0, 128) + "\" is malformed";
        }
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
    }
    return "critical option source-address=\"" + list.substr(0, 128) + "\" does not contain " +
           normalize(peer).to_string();
}

}  // namespace

std::uint64_t certificate_now() {
    const auto since = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(since).count());
}

std::optional<std::string> validity_refusal(const Certificate& cert, std::uint64_t now) {
    if (now < cert.valid_after())
        return describe(cert) + " is not yet valid (valid after " + std::to_string(cert.valid_after()) + ")";
    if (now >= cert.valid_before())
        return describe(cert) + " has expired (valid before " + std::to_string(cert.valid_before()) + ")";
    return std::nullopt;
}

std::optional<std::string> user_certificate_refusal(const Certificate& cert, std::string_view user,
                                                    const std::optional<std::vector<std::string>>& line_principals,
                                                    const asio::ip::address& peer, std::uint64_t now) {
    if (cert.certificate_type() != CertificateType::user) return describe(cert) + " is not a user certificate";
    if (auto why = validity_refusal(cert, now)) return why;
    const auto& names = cert.principals();
    if (names.empty()) return describe(cert) + " has no principals (refused, as OpenSSH 10.3)";
    auto listed = [&](std::string_view name) { return std::find(names.begin(), names.end(), name) != names.end(); };
    if (line_principals) {
        if (std::none_of(line_principals->begin(), line_principals->end(), listed))
            return describe(cert) + ": none of the principals=\"...\" names of the cert-authority line is among "
                                    "the certificate's principals";
    } else if (!listed(user)) {
        return describe(cert) + ": user \"" + std::string(user.substr(0, 64)) +
               "\" is not among the certificate's principals";
    }
    for (const auto& option : cert.critical_options()) {
        if (option.name == "source-address") {
            try {
                if (auto why = source_address_refusal(option, peer)) return describe(cert) + ": " + *why;
            } catch (const FormatError&) {
                return describe(cert) + ": critical option source-address is malformed";
            }
        } else if (option.name == "force-command") {
            return describe(cert) + ": critical option force-command: a gate cannot run a command (fail closed)";
        } else if (option.name == "verify-required") {
            return describe(cert) +
                   ": critical option verify-required: a gate cannot verify user presence (fail closed)";
        } else {
            return describe(cert) + ": unknown critical option \"" + option.name.substr(0, 64) + "\"";
        }
    }
    return std::nullopt;
}

std::optional<std::string> host_certificate_refusal(const Certificate& cert, std::string_view host_name,
                                                    std::uint64_t now) {
    if (cert.certificate_type() != CertificateType::host) return describe(cert) + " is not a host certificate";
    if (auto why = validity_refusal(cert, now)) return why;
    const auto& names = cert.principals();
    if (std::none_of(names.begin(), names.end(), [&](const std::string& n) { return equal_nocase(n, host_name); }))
        return describe(cert) + ": host name \"" + std::string(host_name.substr(0, 128)) +
               "\" is not among its principals";
    if (!cert.critical_options().empty())
        return describe(cert) + ": host certificates have no critical options (found \"" +
               cert.critical_options().front().name.substr(0, 64) + "\")";
    return std::nullopt;
}

}  // namespace authchain::openssh
