// known_hosts: OpenSSH's list of the host keys a client trusts, parsed
// (pure: text in, entries and warnings out) and looked up.
//
// Line format, as sshd(8) SSH_KNOWN_HOSTS FILE FORMAT:
//     [@revoked | @cert-authority] hostnames keytype base64 [comment]
// hostnames is a comma list of patterns (`*`, `?`, `!` negation, see
// patterns.hpp; a negated match means the line does not apply), names are
// "host" for port 22 and "[host]:port" otherwise, or a single hashed name
// "|1|base64(salt)|base64(HMAC-SHA1(salt, name))" as `ssh-keygen -H` writes.
// Blank lines and '#' comments are ignored. Unknown markers, unsupported
// key types and bad base64 are skipped with a warning. A @cert-authority
// line names a CA whose host certificates are trusted for its hostnames
// (certificate_check.hpp); its key is never a host key itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/auth/openssh/key.hpp>

namespace authchain::openssh {

inline constexpr std::size_t max_known_hosts_line = 16 * 1024;   // longer lines are skipped
inline constexpr std::size_t max_known_hosts_entries = 65536;    // later lines are ignored

struct KnownHost {
    std::string hosts;    // the hostnames field as written
    PublicKey key;
    std::string comment;
    bool revoked = false;  // an @revoked line
    std::string source;    // "file:line"
    bool cert_authority = false;  // a @cert-authority line
};

struct KnownHosts {
    std::vector<KnownHost> entries;     // in file order
    std::vector<std::string> warnings;  // "file:line: why the line was skipped"
};

// Parses the text of a known_hosts file; `file_name` only labels warnings
// and KnownHost::source. Never throws for bad content.
KnownHosts parse_known_hosts(std::string_view text, std::string_view file_name);

// The name OpenSSH looks up: `host` in lower case for port 0 or 22,
// "[host]:port" otherwise.
std::string known_host_name(std::string_view host, std::uint16_t port);

// Whether a hostnames field applies to `name` (already as known_host_name
// makes it): a hashed field by recomputing the HMAC, a pattern list by
// OpenSSH match_hostname (positive and no negated match).
bool hosts_field_matches(std::string_view hosts, std::string_view name);

enum class HostKeyStatus {
    known,    // `key` is listed for the host
    changed,  // another key is listed for the host and `key` is not
    unknown,  // nothing is listed for the host
    revoked,  // an @revoked line lists `key` (wins over any listing)
};

struct HostKeyLookup {
    HostKeyStatus status = HostKeyStatus::unknown;
    std::string name;                  // the name looked up (known_host_name)
    const KnownHost* entry = nullptr;  // known: the matching line; changed: a line with the other key; revoked: the @revoked line
};

// Looks `key` up for host:port. Stricter than OpenSSH in two points: an
// @revoked line refuses its key for every host, whatever its hostnames
// field ("must not ever be accepted", sshd(8)); and a listed key of ANOTHER
// type also counts as `changed` (the public_key protocol has no host key
// negotiation that could prefer a known type).
HostKeyLookup lookup_host_key(const KnownHosts& known, std::string_view host, std::uint16_t port,
                              const PublicKey& key);

// The @revoked line that lists `key`, whatever its hostnames, or nullptr.
const KnownHost* revoked_entry(const KnownHosts& known, const PublicKey& key);

// The first @cert-authority line for `ca` whose hostnames match host:port
// (known_host_name), or nullptr.
const KnownHost* find_host_authority(const KnownHosts& known, std::string_view host, std::uint16_t port,
                                     const PublicKey& ca);

// One known_hosts line (with final '\n') for host:port and `key`; with
// `hash`, the name is hashed with a fresh random 20-byte salt as
// `ssh-keygen -H` does.
std::string known_hosts_line(std::string_view host, std::uint16_t port, const PublicKey& key, bool hash);

}  // namespace authchain::openssh
