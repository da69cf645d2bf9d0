// password: a user name and password, checked by the server against an
// Argon2id user database (auth/password/user_database.hpp), bound to the
// channel id of the stream. Run it after layers that encrypt the stream and
// prove the server to the client:
//
//     secure_channel() | public_key({...}) | password({.users = "users"})
//     client::secure_channel() | client::public_key({...})
//         | client::password({.user = "alice", .password = Passphrase::from_file("pw")})
//
// The client never sends the password to a server that has not proved who
// it is on this connection (RPyC's password layer "trusts the server
// blindly": a man in the middle collects every password), and neither side
// runs on a stream an eavesdropper can read.
//
// The protocol (framing in auth/password/detail/messages.hpp):
//   0. Both sides: the stream's protection().channel_id must not be empty
//      (protocol_error, "password needs a channel id: put secure_channel
//      before it"), and the stream must be confidential unless the side's
//      allow_plaintext is set (denied). The client also refuses unless the
//      server proved its identity on this connection — its credentials know
//      host_name (client::public_key) or cert_fingerprint (a TLS client
//      layer) — or allow_unauthenticated_server is set (denied). A client
//      that refuses has sent nothing and has not asked for the password.
//   P1 client -> server: the channel id cid, the user name, the password,
//      zero padding to a multiple of 512 bytes. The server refuses a P1
//      whose cid is not its own (compared in constant time: relayed from
//      another connection) as protocol_error, and a malformed one, before
//      any hashing.
//   The server then waits (at most max_check_wait) for one of
//      max_concurrent_checks hashing slots; none free, or the peer's source
//      already holding its share of the pool (PasswordCheckPool): P2 busy,
//      and the connection is refused as busy. In the slot it runs Argon2id on the
//      password with the user's stored parameters and salt, or, for an
//      unknown user, with a dummy hash of the parameters most users have,
//      so both cost the same; the result is compared in constant time.
//   P2 server -> client: verdict byte, 0 = accepted, 1 = busy, 3 = denied.
//      The server refuses a wrong password and an unknown user alike
//      (denied; the local detail is "password for user "X": wrong password"
//      or "...: unknown user"), then the driver sends the transport's deny.
//      The client reports the verdict: denied ("wrong password or unknown
//      user") or busy, so its user can tell them from a protocol error.
// Every length is bounded (2 KiB per message, 1 KiB per password, 64 bytes
// per user name) before allocation; the password is held in wiped memory
// (secure_vector) on both sides and never kept after the check.
//
// Failed attempts are refusals (denied), which failure_throttle counts when
// it wraps this layer:
//     failure_throttle(o) | (secure_channel() | public_key(k) | password(u))
//
// Proven facts. Server: user. Client: nothing about the server (it was proven
// before); the log notes that the password was accepted.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/password/check_pool.hpp>
#include <authchain/auth/password/user_database.hpp>
#include <authchain/compose/current_snapshot.hpp>
#include <authchain/compose/session.hpp>

namespace authchain {

struct PasswordServerOptions {
    std::filesystem::path users;  // the user database, mode 0600 (not readable by others)
    // Hashes weaker than this (memory or iterations) are accepted but
    // reported by warnings(); parallelism is not compared.
    userdb::Argon2Params minimum = userdb::owasp_argon2id;
    // Checks that may run at once (each allocates its m KiB), 1..64.
    std::size_t max_concurrent_checks = 2;
    // How long an attempt waits for a free check before it is refused as busy.
    std::chrono::milliseconds max_check_wait{1000};
    // Run on a stream that is not confidential (the password crosses in clear).
    bool allow_plaintext = false;
    // Share one pool between several layers; null: a pool of
    // max_concurrent_checks for this layer.
    std::shared_ptr<PasswordCheckPool> check_pool;
};

// The server's user database, loaded at construction and re-read by
// reload() (for SIGHUP). A check uses the snapshot current when it started.
class PasswordUsers {
public:
    struct Snapshot {
        userdb::UserDatabase database;
        // Checked for an unknown user: a hash of a random password with the
        // parameters most entries use (ties: the first in the file), or
        // `minimum` when there are none.
        std::string dummy_hash;
        std::vector<std::string> warnings;  // skipped lines, then weak hashes
    };

    // Loads the file (userdb::read_user_database). Throws
    // std::runtime_error naming the file; std::invalid_argument for options
    // out of range.
    explicit PasswordUsers(PasswordServerOptions options);

    // Re-reads the file; on any error throws and keeps the current snapshot.
    void reload();
    std::shared_ptr<const Snapshot> current() const;
    // Skipped lines ("file:line: why; line skipped") and hashes weaker than
    // options().minimum, of the current snapshot.
    std::vector<std::string> warnings() const;
    // For logs: "password: users /etc/authchain/users".
    std::string name() const;
    const PasswordServerOptions& options() const noexcept;  // check_pool is set

private:
    std::shared_ptr<const Snapshot> load() const;

    PasswordServerOptions options_;
    CurrentSnapshot<Snapshot> current_;
};

// The server layer. Loads the file now (errors are thrown here, at build time).
Authenticator password(PasswordServerOptions options);
// The server layer over a shared database: keep the pointer and call reload() on SIGHUP.
Authenticator password(std::shared_ptr<PasswordUsers> users);

namespace client {

struct PasswordClientOptions {
    std::string user;
    // Asked for at each handshake, once the checks of step 0 passed, and
    // wiped once sent: Passphrase::from_source(callback), from_file(path)
    // (mode 0600), or a fixed string. None: the handshake is refused.
    openssh::Passphrase password;
    // Send the password to a server that proved nothing on this connection.
    bool allow_unauthenticated_server = false;
    // Send it on a stream that is not confidential.
    bool allow_plaintext = false;
};

// The client layer. Throws std::invalid_argument for an invalid user name.
Authenticator password(PasswordClientOptions options);

}  // namespace client

}  // namespace authchain
