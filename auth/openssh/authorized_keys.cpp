#include <authchain/auth/openssh/authorized_keys.hpp>

#include <array>
#include <cstdint>

#include <authchain/auth/openssh/key_lines.hpp>
#include <authchain/auth/openssh/patterns.hpp>
#include <authchain/compose/cidr.hpp>
#include <authchain/compose/text.hpp>

namespace authchain::openssh {

namespace {

// The feature flags of OpenSSH's key options, in KeyRestrictions::no order.
constexpr std::array<std::string_view, 5> features = {"port-forwarding", "agent-forwarding",
                                                      "X11-forwarding", "pty", "user-rc"};

struct OptionError {
    std::string message;
};

// Parses the options field into `entry` (OpenSSH sshauthopt_parse, limited
// to what authchain can record); returns the reason to skip the line.
class OptionParser {
public:
    OptionParser(std::string_view text, AuthorizedKey& entry) : s_(text), entry_(entry) {}

    std::optional<std::string> parse() {
        std::array<bool, features.size()> allowed{true, true, true, true, true};
        while (!s_.empty()) {
            if (auto error = one(allowed)) return error;
            if (s_.empty()) break;
            if (s_.front() != ',') return "unknown key option near \"" + excerpt() + "\"";
            s_.remove_prefix(1);
            if (s_.empty()) return std::string("unexpected end of options");
        }
        for (std::size_t i = 0; i < features.size(); ++i)
            if (!allowed[i]) entry_.restrictions.no.emplace_back(features[i]);
        return std::nullopt;
    }

private:
    std::optional<std::string> one(std::array<bool, features.size()>& allowed) {
        if (starts_with_nocase(s_, "restrict") && ends_option(8)) {
            s_.remove_prefix(8);
            entry_.restrictions.restrict = true;
            allowed.fill(false);
            return std::nullopt;
        }
        bool negate = starts_with_nocase(s_, "no-");
        std::string_view flag = negate ? s_.substr(3) : s_;
        for (std::size_t i = 0; i < features.size(); ++i) {
            if (starts_with_nocase(flag, features[i]) && ends_option(features[i].size() + (negate ? 3 : 0))) {
                s_.remove_prefix(features[i].size() + (negate ? 3 : 0));
                allowed[i] = !negate;
                return std::nullopt;
            }
        }
        if (value_of("command")) {
            if (entry_.restrictions.command) return std::string("multiple \"command\" clauses");
            auto v = dequote();
            if (!v) return bad_quote("command");
            entry_.restrictions.command = std::move(*v);
            return std::nullopt;
        }
        if (value_of("from")) {
            if (entry_.from) return std::string("multiple \"from\" clauses");
            auto v = dequote();
            if (!v) return bad_quote("from");
            if (auto why = address_list_error(*v)) return "from=\"" + *v + "\": " + *why;
            entry_.from = std::move(*v);
            return std::nullopt;
        }
        if (value_of("expiry-time")) {
            auto v = dequote();
            if (!v) return bad_quote("expiry-time");
            auto when = parse_expiry_time(*v);
            if (!when) return "invalid expiry-time \"" + *v + "\"";
            if (!entry_.expiry || *when < *entry_.expiry) {  // OpenSSH keeps the earliest
                entry_.expiry = when;
                entry_.expiry_text = *v;
            }
            return std::nullopt;
        }
        if (value_of("permitopen")) {
            auto v = dequote();
            if (!v) return bad_quote("permitopen");
            if (!valid_permitopen(*v)) return "invalid permitopen \"" + *v + "\"";
            entry_.restrictions.permitopen.push_back(std::move(*v));
            return std::nullopt;
        }
        if (starts_with_nocase(s_, "cert-authority") && ends_option(14)) {
            s_.remove_prefix(14);
            entry_.cert_authority = true;
            return std::nullopt;
        }
        if (value_of("principals")) {
            if (entry_.principals) return std::string("multiple \"principals\" clauses");
            auto v = dequote();
            if (!v) return bad_quote("principals");
            std::vector<std::string> names;
            std::string_view rest = *v;
            while (true) {
                const auto comma = rest.find(',');
                std::string_view name = rest.substr(0, comma);
                if (name.empty()) return "principals=\"" + *v + "\": empty name";
                names.emplace_back(name);
                if (comma == std::string_view::npos) break;
                rest.remove_prefix(comma + 1);
            }
            entry_.principals = std::move(names);
            return std::nullopt;
        }
        std::string name = option_name();
        return "option \"" + name + "\" is not supported";
    }

    // True if the option name of length n is followed by ',' or the end.
    bool ends_option(std::size_t n) const { return s_.size() == n || s_[n] == ','; }

    // OpenSSH opt_match: `name=` (name case-insensitive); consumes it.
    bool value_of(std::string_view name) {
        if (!starts_with_nocase(s_, name) || s_.size() <= name.size() || s_[name.size()] != '=') return false;
        s_.remove_prefix(name.size() + 1);
        return true;
    }

    // OpenSSH opt_dequote: "..." with \" standing for ".
    std::optional<std::string> dequote() {
        if (s_.empty() || s_.front() != '"') return std::nullopt;
        std::string out;
        std::size_t i = 1;
        for (; i < s_.size() && s_[i] != '"'; ++i) {
            if (s_[i] == '\\' && i + 1 < s_.size() && s_[i + 1] == '"') ++i;
            out += s_[i];
        }
        if (i >= s_.size()) return std::nullopt;
        s_.remove_prefix(i + 1);
        return out;
    }

    static bool valid_permitopen(std::string_view v) {
        std::string_view host, port;
        if (!v.empty() && v.front() == '[') {
            auto close = v.find(']');
            if (close == std::string_view::npos || close + 1 >= v.size() || v[close + 1] != ':') return false;
            host = v.substr(1, close - 1);
            port = v.substr(close + 2);
        } else {
            auto colon = v.find(':');
            if (colon == std::string_view::npos) return false;
            host = v.substr(0, colon);
            port = v.substr(colon + 1);
        }
        if (host.empty() || host.size() > 1024) return false;
        if (port == "*") return true;
        if (port.empty() || port.size() > 5) return false;
        unsigned value = 0;
        for (char c : port) {
            if (c < '0' || c > '9') return false;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        return value >= 1 && value <= 65535;
    }

    std::string option_name() const {
        std::size_t n = 0;
        while (n < s_.size() && n < 64 && s_[n] != '=' && s_[n] != ',') ++n;
        return std::string(s_.substr(0, n));
    }

    std::string excerpt() const { return std::string(s_.substr(0, 32)); }

    static std::string bad_quote(std::string_view name) {
        return "option \"" + std::string(name) + "\" needs a double-quoted value";
    }

    std::string_view s_;
    AuthorizedKey& entry_;
};

std::optional<unsigned> digits(std::string_view s) {
    unsigned v = 0;
    for (char c : s) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    return v;
}

}  // namespace

bool is_key_type_name(std::string_view word) {
    static constexpr std::array<std::string_view, 9> names = {
        "ssh-ed25519", "ssh-rsa", "ssh-dss", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521", "sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
        "ssh-xmss@openssh.com"};
    for (auto n : names)
        if (word == n) return true;
    constexpr std::string_view cert = "-cert-v01@openssh.com";
    return word.size() > cert.size() && word.ends_with(cert);
}

std::optional<std::chrono::system_clock::time_point> parse_expiry_time(std::string_view text) {
    // With or without the zone suffix the time is UTC: reading it as local
    // time would let the TZ environment variable change a verdict (DESIGN
    // rule 5). OpenSSH reads a zone-less time as local time.
    if (text.size() > 1 && (text.back() == 'Z' || text.back() == 'z'))
        text.remove_suffix(1);
    else if (text.size() > 3 && starts_with_nocase(text.substr(text.size() - 3), "utc"))
        text.remove_suffix(3);
    if (text.size() != 8 && text.size() != 12 && text.size() != 14) return std::nullopt;
    auto field = [&](std::size_t at, std::size_t n) { return digits(text.substr(at, n)); };
    auto yyyy = field(0, 4), mm = field(4, 2), dd = field(6, 2);
    std::optional<unsigned> hh = 0u, min = 0u, ss = 0u;
    if (text.size() >= 12) hh = field(8, 2), min = field(10, 2);
    if (text.size() == 14) ss = field(12, 2);
    if (!yyyy || !mm || !dd || !hh || !min || !ss) return std::nullopt;
    if (*yyyy < 1970 || *mm < 1 || *mm > 12 || *dd < 1 || *dd > 31 || *hh > 23 || *min > 59 || *ss > 60)
        return std::nullopt;
    // Civil-calendar arithmetic (as timegm, which also rolls day 31 of a
    // 30-day month over): reads neither TZ nor /etc/localtime.
    using namespace std::chrono;
    const sys_days date = year{static_cast<int>(*yyyy)} / month{*mm} / day{*dd};
    const seconds t = date.time_since_epoch() + hours{*hh} + minutes{*min} + seconds{*ss};
    if (t.count() < 0) return std::nullopt;
    // Past what system_clock can hold (year 2262): never expires in practice.
    if (t >= duration_cast<seconds>(system_clock::time_point::max().time_since_epoch()))
        return system_clock::time_point::max();
    return system_clock::time_point(duration_cast<system_clock::duration>(t));
}

AuthorizedKeys parse_authorized_keys(std::string_view text, std::string_view file_name) {
    AuthorizedKeys out;
    auto parse = [&](std::string_view line, const std::string& where) -> std::optional<std::string> {
        std::string_view rest = line;
        std::string_view options;
        {
            std::string_view probe = rest;
            if (!is_key_type_name(take_word(probe))) {
                auto length = options_length(rest);
                if (!length) return "unterminated quote in options";
                options = rest.substr(0, *length);
                rest = skip_blanks(rest.substr(*length));
            }
        }
        std::string_view type = take_word(rest);
        std::string_view base64 = take_word(rest);
        if (!is_key_type_name(type)) return "no key type found";
        if (base64.empty()) return "no key after \"" + std::string(type) + "\"";
        std::optional<PublicKey> key;
        try {
            key = PublicKey::from_base64(type, base64);
        } catch (const FormatError& e) {
            return std::string("unusable ") + std::string(type) + " key: " + e.what();
        }
        AuthorizedKey entry{*key, std::string(trim_line(rest)), {}, {}, {}, {}, where, false, {}};
        if (auto error = OptionParser(options, entry).parse()) return error;
        if (entry.principals && !entry.cert_authority)
            return std::string("principals= is only meaningful with cert-authority (as sshd)");
        out.entries.push_back(std::move(entry));
        return std::nullopt;
    };
    out.warnings = parse_key_lines(text, file_name, max_authorized_keys_line, max_authorized_keys_entries, parse);
    return out;
}

namespace {

KeyAuthorization find_entry(const AuthorizedKeys& keys, const PublicKey& key, const asio::ip::address& peer,
                            std::chrono::system_clock::time_point now, bool cert_authority) {
    KeyAuthorization result{nullptr, cert_authority ? "CA key not in authorized_keys as cert-authority"
                                                    : "key not in authorized_keys"};
    for (const auto& entry : keys.entries) {
        if (entry.cert_authority != cert_authority || !(entry.key == key)) continue;
        if (entry.from && !match_from(peer, *entry.from)) {
            result.reason = "from=\"" + *entry.from + "\" does not match " + normalize(peer).to_string() +
                            " (" + entry.source + ")";
            continue;
        }
        if (entry.expiry && *entry.expiry < now) {
            result.reason = "key expired on " + entry.expiry_text + " (" + entry.source + ")";
            continue;
        }
        return {&entry, {}};
    }
    return result;
}

}  // namespace

KeyAuthorization find_authorized_key(const AuthorizedKeys& keys, const PublicKey& key,
                                     const asio::ip::address& peer, std::chrono::system_clock::time_point now) {
    return find_entry(keys, key, peer, now, false);
}

KeyAuthorization find_certificate_authority(const AuthorizedKeys& keys, const PublicKey& ca,
                                            const asio::ip::address& peer,
                                            std::chrono::system_clock::time_point now) {
    return find_entry(keys, ca, peer, now, true);
}

}  // namespace authchain::openssh
