// psk: mutual challenge-response over a pre-shared key (HMAC-SHA256).
// Each side proves that it knows the key named by a key id; the key itself
// never crosses the wire. Unlike Pyro's HMAC passphrase, every proof covers
// fresh nonces of both sides, the role of the prover and the channel id, so
// a proof cannot be replayed, reflected back to its sender or moved to
// another connection; proofs are compared in constant time.
//
//     secure_channel() | psk({.keys = "/etc/authchain/psk"})                          // server
//     client::secure_channel() | client::psk({.key_file = "psk", .key_id = "2026"})   // client
//
// The protocol (framing and encoding in auth/psk/detail/messages.hpp):
//   0. The binding. Let cid be the stream's protection().channel_id.
//      - An encrypted (confidential) stream without a channel id is refused
//        (protocol_error): a man in the middle could run two such channels
//        and relay this exchange between them, so there is nothing to bind
//        the proofs to.
//      - A stream that is not confidential (plain TCP) is refused
//        (protocol_error) unless the caller opts in with allow_plaintext
//        (DESIGN rule 3). Then cid may be empty: every proof still covers
//        two fresh 32-byte nonces, so a recorded proof is worthless on any
//        other connection, but nothing binds the bytes AFTER the exchange
//        to it: psk on plain TCP proves key knowledge to a passive network,
//        and neither encrypts nor protects against a live man in the middle
//        who relays the exchange and keeps the connection. The gate and
//        tunnel say so at startup.
//   S1 server -> client: Ns (32 bytes from the system RNG).
//   C1 client -> server: key id I, Nc (32 bytes), proof_c =
//        HMAC-SHA256(K_I, string "authchain psk client v1" || string cid ||
//                         string I || string Ns || string Nc).
//      The server looks I up (an unknown id is checked against a dummy key,
//      the same work as a known one), refuses Nc == Ns (a reflected nonce)
//      and compares proof_c in constant time.
//   S2 server -> client: verdict byte; when accepted (0) it carries proof_s =
//        HMAC-SHA256(K_I, string "authchain psk server v1" || same fields).
//      On refusal the server sends verdict 3 (denied) and no proof, then
//      throws AuthenticationError(denied). The client checks proof_s in
//      constant time and refuses the server (denied) when it does not match;
//      it throws RefusedByPeer (denied) when it reads a refusal.
// The server proves only to a client that proved first, so it is no oracle
// for unauthenticated peers; the role labels differ, so neither side's proof
// is ever valid in the other direction. String = uint32 length || bytes.
//
// Proven facts, both sides: psk_id (the key id both proved to know).
//
// Key files: one `id:base64key` per line, `#` comments and blank lines
// skipped. An id is 1..64 of [A-Za-z0-9._@-]; a key is 32..1024 bytes once
// decoded (standard base64 with padding); an id given twice, a short key or
// any malformed line refuses the whole file (file:line: why). The file is
// opened under StrictModes as a private key (DESIGN rules 7 and 10): mode
// 0600 or stricter, owned by the user or root, every directory up to / safe.
#pragma once

#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/compose/current_snapshot.hpp>
#include <authchain/compose/session.hpp>

namespace authchain {

inline constexpr std::size_t psk_min_key_bytes = 32;
inline constexpr std::size_t psk_max_key_bytes = 1024;
inline constexpr std::size_t psk_max_id_length = 64;
inline constexpr std::size_t psk_max_key_file = 256 * 1024;

struct PskKey {
    std::string id;
    Botan::secure_vector<std::uint8_t> key;
};

// The keys of one file, in file order.
struct PskKeyFile {
    std::vector<PskKey> keys;
    // The key named `id`, or nullptr.
    const PskKey* find(std::string_view id) const;
};

// True when `id` is a valid key id (1..64 of [A-Za-z0-9._@-]).
bool valid_psk_id(std::string_view id);

// Parses a key file's text (rules above). `source` names the file in
// messages. Throws std::runtime_error "source:line: why"; a file without
// any key is refused too ("no key").
PskKeyFile parse_psk_keys(std::string_view text, std::string_view source);

// Opens `path` with open_checked(path, private) and parses it. Throws
// std::runtime_error naming the path.
PskKeyFile read_psk_key_file(const std::filesystem::path& path);

// Writes a new key file holding one fresh 32-byte key named `id`,
// atomically with mode 0600 (the directory is checked as for reading).
// Refuses an existing file unless `overwrite`. Throws std::runtime_error
// or std::system_error naming the file.
void write_psk_key_file(const std::filesystem::path& path, std::string_view id, bool overwrite);

struct PskServerOptions {
    std::filesystem::path keys;  // the key file (all its keys are accepted)
    // Run on a stream that is not confidential (see step 0 above).
    bool allow_plaintext = false;
};

// The server's key file, loaded at construction and re-read by reload()
// (for SIGHUP). A handshake uses the snapshot current when it started;
// reload() swaps in a complete new one, or throws and keeps the old.
class PskKeys {
public:
    explicit PskKeys(PskServerOptions options);
    void reload();
    std::shared_ptr<const PskKeyFile> current() const;
    const PskServerOptions& options() const noexcept { return options_; }
    // For logs: "psk: keys /etc/authchain/psk".
    std::string name() const;

private:
    PskServerOptions options_;
    CurrentSnapshot<PskKeyFile> current_;
};

// The server layer. Loads the key file now (errors are thrown here).
Authenticator psk(PskServerOptions options);
// The server layer over a shared key file: keep the pointer, reload() on SIGHUP.
Authenticator psk(std::shared_ptr<PskKeys> keys);

namespace client {

struct PskClientOptions {
    std::filesystem::path key_file;     // same format as the server's
    std::optional<std::string> key_id;  // unset: the file's first key
    bool allow_plaintext = false;       // as PskServerOptions::allow_plaintext
};

// The client layer. Reads the key file now and keeps only the one key it
// uses. Throws std::runtime_error for a bad file or a key_id it lacks.
Authenticator psk(PskClientOptions options);

}  // namespace client

}  // namespace authchain
