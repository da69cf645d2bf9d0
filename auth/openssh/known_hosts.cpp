#include <authchain/auth/openssh/known_hosts.hpp>

#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/mac.h>

#include <authchain/auth/openssh/authorized_keys.hpp>
#include <authchain/auth/openssh/key_lines.hpp>
#include <authchain/auth/openssh/patterns.hpp>
#include <authchain/compose/text.hpp>

namespace authchain::openssh {

namespace {

constexpr std::string_view hash_magic = "|1|";
constexpr std::size_t salt_size = 20;  // SHA-1 output size, as OpenSSH requires

// The salt of a hashed hostnames field, or nullopt if malformed.
std::optional<Botan::secure_vector<std::uint8_t>> hashed_salt(std::string_view hosts) {
    if (!hosts.starts_with(hash_magic)) return std::nullopt;
    std::string_view rest = hosts.substr(hash_magic.size());
    auto bar = rest.find('|');
    if (bar == std::string_view::npos || bar > 64) return std::nullopt;
    try {
        auto salt = Botan::base64_decode(std::string(rest.substr(0, bar)));
        if (salt.size() != salt_size) return std::nullopt;
        return salt;
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

// "|1|base64(salt)|base64(HMAC-SHA1(salt, name))".
std::string hash_name(std::span<const std::uint8_t> salt, std::string_view name) {
    auto mac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-1)");
    mac->set_key(salt.data(), salt.size());
    mac->update(reinterpret_cast<const std::uint8_t*>(name.data()), name.size());
    auto digest = mac->final();
    return std::string(hash_magic) + Botan::base64_encode(salt.data(), salt.size()) + "|" +
           Botan::base64_encode(digest);
}

}  // namespace

std::string known_host_name(std::string_view host, std::uint16_t port) {
    std::string name = ascii_lowered(host);
    if (port == 0 || port == 22) return name;
    return "[" + name + "]:" + std::to_string(port);
}

bool hosts_field_matches(std::string_view hosts, std::string_view name) {
    if (hosts.starts_with('|')) {
        auto salt = hashed_salt(hosts);
        return salt && hash_name(*salt, name) == hosts;
    }
    return match_hostname(name, hosts) == ListMatch::positive;
}

KnownHosts parse_known_hosts(std::string_view text, std::string_view file_name) {
    KnownHosts out;
    auto parse = [&](std::string_view line, const std::string& where) -> std::optional<std::string> {
        bool revoked = false, cert_authority = false;
        if (line.front() == '@') {
            std::string_view marker = take_word(line);
            if (marker == "@cert-authority")
                cert_authority = true;
            else if (marker == "@revoked")
                revoked = true;
            else
                return "unknown marker \"" + std::string(marker.substr(0, 32)) + "\"";
        }
        std::string_view hosts = take_word(line);
        std::string_view type = take_word(line);
        std::string_view base64 = take_word(line);
        if (hosts.starts_with('|') && !hashed_salt(hosts)) return "bad hashed host name";
        if (!is_key_type_name(type))
            return type.empty() ? std::string("no key") : "unknown key type \"" + std::string(type.substr(0, 64)) + "\"";
        if (base64.empty()) return "no key after \"" + std::string(type) + "\"";
        try {
            out.entries.push_back({std::string(hosts), PublicKey::from_base64(type, base64),
                                   std::string(trim_line(line)), revoked, where, cert_authority});
        } catch (const FormatError& e) {
            return "unusable " + std::string(type) + " key: " + e.what();
        }
        return std::nullopt;
    };
    out.warnings = parse_key_lines(text, file_name, max_known_hosts_line, max_known_hosts_entries, parse);
    return out;
}

HostKeyLookup lookup_host_key(const KnownHosts& known, std::string_view host, std::uint16_t port,
                              const PublicKey& key) {
    HostKeyLookup result;
    result.name = known_host_name(host, port);
    const KnownHost* listed = nullptr;
    const KnownHost* other = nullptr;
    for (const auto& entry : known.entries) {
        if (entry.cert_authority) continue;  // a CA key is never a host key
        bool same = entry.key == key;
        if (entry.revoked) {
            if (same) {
                result.status = HostKeyStatus::revoked;
                result.entry = &entry;
                return result;
            }
            continue;
        }
        if (!hosts_field_matches(entry.hosts, result.name)) continue;
        if (same) {
            if (!listed) listed = &entry;
        } else if (!other) {
            other = &entry;
        }
    }
    if (listed) {
        result.status = HostKeyStatus::known;
        result.entry = listed;
    } else if (other) {
        result.status = HostKeyStatus::changed;
        result.entry = other;
    }
    return result;
}

const KnownHost* revoked_entry(const KnownHosts& known, const PublicKey& key) {
    for (const auto& entry : known.entries)
        if (entry.revoked && entry.key == key) return &entry;
    return nullptr;
}

const KnownHost* find_host_authority(const KnownHosts& known, std::string_view host, std::uint16_t port,
                                     const PublicKey& ca) {
    const std::string name = known_host_name(host, port);
    for (const auto& entry : known.entries)
        if (entry.cert_authority && entry.key == ca && hosts_field_matches(entry.hosts, name)) return &entry;
    return nullptr;
}

std::string known_hosts_line(std::string_view host, std::uint16_t port, const PublicKey& key, bool hash) {
    std::string name = known_host_name(host, port);
    if (hash) {
        Botan::AutoSeeded_RNG rng;
        auto salt = rng.random_vec(salt_size);
        name = hash_name(salt, name);
    }
    return name + " " + key.to_line() + "\n";
}

}  // namespace authchain::openssh
