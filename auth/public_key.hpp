// public_key: mutual SSH-style public-key authentication. The server proves
// its host key (checked against the client's known_hosts), the client proves
// its user key (checked against the server's authorized_keys). Both proofs
// sign the channel id of the stream, so they cannot be replayed on another
// connection (DESIGN rule 4): run it after a layer that provides one.
//
//     secure_channel(...) | public_key({.host_key = "host", .authorized_keys = "ak"})
//
// The protocol (framing and encoding in auth/public_key/detail/messages.hpp):
//   0. Both sides refuse a stream whose protection().channel_id is empty
//      (protocol_error, "public_key needs a channel id: put secure_channel
//      before it"). Let cid be that channel id.
//   S1 server -> client: host key blob H, sign_host(string "authchain
//      public_key host v1" || string cid).
//      The client verifies the signature with H, then looks H up in
//      known_hosts for the name it dialled: known -> go on; unknown ->
//      deny (strict) or append the key atomically and go on (accept-new);
//      changed or revoked -> always deny ("REMOTE HOST IDENTIFICATION HAS
//      CHANGED" in the local detail).
//   C1 client -> server: user key blob U, sign_user(string "authchain
//      public_key user v1" || string cid || string H).
//      The server verifies the signature with U, then finds U in
//      authorized_keys (first line whose from= admits the peer address and
//      whose expiry-time has not passed).
//   S2 server -> client: verdict byte, 0 = accepted. On refusal the server
//      sends verdict 3 (denied), then throws AuthenticationError(denied);
//      the driver (Server) then sends the transport's deny, as for any
//      refusal. The client throws AuthenticationError(denied) when it reads
//      a refusal.
// Every length is bounded (16 KiB per message) before allocation; a
// truncated or malformed message is protocol_error.
//
// Proven facts. Server: key_type, key_fingerprint ("SHA256:..." as
// ssh-keygen -l), key_comment (from authorized_keys, when not empty),
// key_restrictions (always; the application enforces them). Client:
// host_name (the known_hosts name looked up: "host" or "[host]:port"),
// key_type and key_fingerprint of the host key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "auth/openssh/authorized_keys.hpp"
#include "auth/openssh/key.hpp"
#include "auth/openssh/passphrase.hpp"
#include "compose/session.hpp"

namespace authchain {

struct PublicKeyServerOptions {
    std::filesystem::path host_key;  // private key file (openssh-key-v1 or PEM), mode 0600
    // Asked for at each (re)load of host_key; each copy asked for is wiped
    // once the key is decrypted. Assignable from a std::string or
    // std::optional<std::string> (then held in a secure_vector, since
    // reload() needs it again), or Passphrase::from_file / from_source (then
    // nothing secret is kept between loads).
    openssh::Passphrase host_key_passphrase;
    std::filesystem::path authorized_keys;  // not writable by group/others
};

// The server's files, loaded at construction and re-read by reload() (for
// SIGHUP). A handshake uses the snapshot current when it started; reload()
// swaps in a complete new snapshot under a mutex, so no handshake ever sees
// a host key from one load and authorized_keys from another.
class PublicKeyFiles {
public:
    struct Snapshot {
        openssh::PrivateKey host_key;
        openssh::PublicKey host_public;  // host_key.public_key()
        openssh::AuthorizedKeys authorized_keys;
    };

    // Loads both files (mode checks as DESIGN rule 7). Throws
    // std::runtime_error / openssh::FormatError naming the file.
    explicit PublicKeyFiles(PublicKeyServerOptions options);

    // Re-reads both files; on any error throws and keeps the current snapshot.
    void reload();
    std::shared_ptr<const Snapshot> current() const;
    // Lines of authorized_keys that were skipped, "file:line: why" (current snapshot).
    std::vector<std::string> warnings() const;
    // For logs: "public_key: host key /etc/x, authorized_keys /etc/y".
    std::string name() const;

private:
    std::shared_ptr<const Snapshot> load() const;

    PublicKeyServerOptions options_;
    mutable std::mutex mutex_;
    std::shared_ptr<const Snapshot> current_;
};

// The server layer. Loads the files now (errors are thrown here, at build time).
Authenticator public_key(PublicKeyServerOptions options);
// The server layer over shared files: keep the pointer and call reload() on SIGHUP.
Authenticator public_key(std::shared_ptr<PublicKeyFiles> files);

namespace client {

struct PublicKeyClientOptions {
    std::filesystem::path identity;  // private key file, mode 0600
    // Asked for once, when the layer is built; the layer keeps neither it nor its source.
    openssh::Passphrase passphrase;
    std::filesystem::path known_hosts;  // may be missing (then every host is unknown)
    std::string host_name;              // the name dialled, looked up in known_hosts
    std::uint16_t port = 0;             // 0 or 22: plain name, else "[name]:port"
    bool strict = true;                 // false = accept-new: unknown hosts are appended (TOFU)
    bool hash_new_hosts = false;        // accept-new writes the name hashed, as ssh-keygen -H
};

// The client layer. Loads the identity and reads known_hosts now (errors
// are thrown here: std::invalid_argument for an empty host_name or
// known_hosts path, std::runtime_error / openssh::FormatError for files);
// known_hosts is read again at each handshake, so a key appended by
// accept-new is known to the next one.
Authenticator public_key(PublicKeyClientOptions options);

}  // namespace client

}  // namespace authchain
