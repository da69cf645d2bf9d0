// authorized_keys: OpenSSH's per-user list of public keys that may log in,
// parsed into entries (pure: text in, entries and warnings out) and matched
// against a key the peer proved.
//
// Line format, as sshd(8) AUTHORIZED_KEYS FILE FORMAT:
//     [options] keytype base64 [comment]
// Blank lines and lines starting with '#' are ignored. Options honoured:
//     from="pattern-list"   peer address must match (see patterns.hpp);
//                           host names are NOT resolved: name patterns are
//                           matched against the peer's address text only
//     expiry-time="YYYYMMDD[HHMM[SS]][Z]"  always UTC, with or without Z;
//                           once past, the key is refused. Differs from
//                           OpenSSH, which reads a time without Z as the
//                           machine's local time: authchain reads nothing
//                           from the environment (TZ) or /etc/localtime, so
//                           the verdict is the same on every machine
//     restrict, [no-]port-forwarding, [no-]agent-forwarding,
//     [no-]X11-forwarding, [no-]pty, [no-]user-rc,
//     permitopen="host:port" (repeatable), command="..." (\" escapes)
//                           recorded in KeyRestrictions for the application
//     cert-authority        the key is a CA: it authorizes user certificates
//                           it signed (certificate_check.hpp), never itself
//     principals="a,b"      with cert-authority only: the certificate must
//                           name one of these instead of the user
// Any other option (environment=, tunnel=, permitlisten=, unknown names), a malformed option, an unsupported key
// type, bad base64 or a type that does not match the blob makes the line
// SKIPPED with a warning "file:line: ..." — never treated as unrestricted.
#pragma once

#include <asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/auth/openssh/key.hpp>
#include <authchain/compose/credentials.hpp>

namespace authchain::openssh {

inline constexpr std::size_t max_authorized_keys_line = 16 * 1024;  // longer lines are skipped
inline constexpr std::size_t max_authorized_keys_entries = 65536;   // later lines are ignored

struct AuthorizedKey {
    PublicKey key;
    std::string comment;
    std::optional<std::string> from;  // pattern list of from="..."
    std::optional<std::chrono::system_clock::time_point> expiry;
    std::string expiry_text;          // as written, for messages
    KeyRestrictions restrictions{};     // effective: `no` lists what is disabled
    std::string source;               // "file:line"
    bool cert_authority = false;      // the line names a CA key
    std::optional<std::vector<std::string>> principals;  // principals="a,b" (cert-authority only)
};

struct AuthorizedKeys {
    std::vector<AuthorizedKey> entries;  // in file order
    std::vector<std::string> warnings;   // "file:line: why the line was skipped"
};

// Parses the text of an authorized_keys file. `file_name` only labels
// warnings and AuthorizedKey::source. Never throws for bad content.
AuthorizedKeys parse_authorized_keys(std::string_view text, std::string_view file_name);

// Outcome of matching a key: the entry that authorizes it, or why not.
struct KeyAuthorization {
    const AuthorizedKey* entry = nullptr;
    std::string reason;  // for the local log when entry is null
    explicit operator bool() const noexcept { return entry != nullptr; }
};

// The first entry (file order) that is not a cert-authority line, whose key equals `key` and whose from= and
// expiry-time= admit `peer` at `now`. Otherwise the reason of the last
// entry of that key that refused ("from= does not match 10.1.2.3 (file:3)",
// "key expired on 20200101 (file:4)"), or "key not in authorized_keys".
KeyAuthorization find_authorized_key(const AuthorizedKeys& keys, const PublicKey& key,
                                     const asio::ip::address& peer,
                                     std::chrono::system_clock::time_point now);

// As find_authorized_key, among cert-authority lines only: the first whose
// key is the CA key `ca` and whose from= and expiry-time admit the peer.
KeyAuthorization find_certificate_authority(const AuthorizedKeys& keys, const PublicKey& ca,
                                            const asio::ip::address& peer,
                                            std::chrono::system_clock::time_point now);

// Parses an expiry-time value as OpenSSH parse_absolute_time:
// YYYYMMDD, YYYYMMDDHHMM or YYYYMMDDHHMMSS, optionally followed by 'Z' or
// "UTC"; always read as UTC (OpenSSH reads a time without 'Z' as local
// time). Independent of TZ. nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> parse_expiry_time(std::string_view text);

// True if `word` names an SSH public key type OpenSSH knows (supported or not).
bool is_key_type_name(std::string_view word);

}  // namespace authchain::openssh
