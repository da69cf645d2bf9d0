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
//      The client first looks H up in known_hosts for the name it dialled:
//      changed or revoked -> deny ("REMOTE HOST IDENTIFICATION HAS CHANGED"
//      in the local detail); unknown and strict -> deny. Only then does it
//      verify the signature with H (so a host that is refused anyway costs
//      no signature work), and under accept-new it appends an unknown key
//      atomically only once the signature verified.
//   C1 client -> server: user key blob U, sign_user(string "authchain
//      public_key user v1" || string cid || string H).
//      The server first finds U in authorized_keys (first line whose from=
//      admits the peer address and whose expiry-time has not passed) and
//      checks that line's options allow a gate (below); only a key that
//      passes is then verified with U. An unlisted or refused key costs no
//      signature work (DESIGN rule 9); RSA keys are bounded before that
//      (modulus 1024..16384 bits, odd exponent 3..2^32-1, key_codec.hpp).
//   S2 server -> client: verdict byte, 0 = accepted. On refusal the server
//      sends verdict 3 (denied), then throws AuthenticationError(denied);
//      the driver (Server) then sends the transport's deny, as for any
//      refusal. The client throws AuthenticationError(denied) when it reads
//      a refusal.
// Every length is bounded (16 KiB per message) before allocation; a
// truncated or malformed message is protocol_error.
//
// Key options, server side. A gate forwards one connection to one backend,
// so it enforces the options about forwarding itself and fails closed:
//   - "no-port-forwarding", or "restrict" not followed by "port-forwarding":
//     refused (the key may not forward, and a gate only forwards);
//   - command="...": refused (a gate cannot run a command), unless
//     PublicKeyServerOptions::ignore_command says to ignore it;
//   - permitopen="host:port" (any number): accepted only when
//     PublicKeyServerOptions::backend is set and one entry names it (host
//     equal ignoring case, no name resolution; port equal or "*"); refused
//     when the layer was not told its backend. The gate's single backend is
//     the only place a connection can reach.
//   - no-pty, no-agent-forwarding, no-X11-forwarding, no-user-rc: nothing a
//     gate offers; recorded only.
// Each refusal names the option in the local detail; the peer sees denied.
//
// Proven facts. Server: key_type, key_fingerprint ("SHA256:..." as
// ssh-keygen -l), key_comment (from authorized_keys, when not empty),
// key_restrictions (always, as parsed; an application behind the chain
// may enforce the rest, e.g. a command= it chose to ignore). Client:
// host_name (the known_hosts name looked up: "host" or "[host]:port";
// without host_name in the options, a connection that does not record what
// it dialled is refused as internal_error, a bug of the caller),
// key_type and key_fingerprint of the host key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <authchain/auth/openssh/authorized_keys.hpp>
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/openssh/revoked_keys.hpp>
#include <authchain/compose/current_snapshot.hpp>
#include <authchain/compose/session.hpp>

namespace authchain {

struct PublicKeyServerOptions {
    std::filesystem::path host_key{};  // private key file (openssh-key-v1 or PEM), mode 0600
    // Asked for at each (re)load of host_key; each copy asked for is wiped
    // once the key is decrypted. Assignable from a std::string or
    // std::optional<std::string> (then held in a secure_vector, since
    // reload() needs it again), or Passphrase::from_file / from_source (then
    // nothing secret is kept between loads).
    openssh::Passphrase host_key_passphrase{};
    std::filesystem::path authorized_keys{};  // not writable by group/others
    // Accept keys with command="..." (the command is not run; it stays in
    // key_restrictions). Off: such keys are refused.
    bool ignore_command = false;
    // The backend this gate forwards to, as permitopen writes it
    // ("host:port" or "[v6]:port"). Unset: keys with permitopen are refused.
    std::optional<std::string> backend{};
    // An OpenSSH host certificate for host_key, presented in S1 instead of
    // the bare key (sshd's HostCertificate). Empty: HOST_KEY-cert.pub when
    // that file exists, else none.
    std::filesystem::path host_certificate{};
    // sshd's RevokedKeys, plain form (openssh/revoked_keys.hpp). Empty: none.
    std::filesystem::path revoked_keys{};
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
        openssh::RevokedKeys revoked_keys;
        Bytes host_presented;  // S1's blob: the host certificate, or host_public.blob()
    };

    // Loads both files (mode checks as DESIGN rule 7). Throws
    // std::runtime_error / openssh::FormatError naming the file.
    explicit PublicKeyFiles(PublicKeyServerOptions options);

    // Re-reads every file (host key and certificate, authorized_keys,
    // revoked_keys); on any error throws and keeps the current snapshot.
    void reload();
    std::shared_ptr<const Snapshot> current() const;
    // Lines of authorized_keys and revoked_keys that were skipped, "file:line: why" (current snapshot).
    std::vector<std::string> warnings() const;
    // For logs: "public_key: host key /etc/x, authorized_keys /etc/y".
    std::string name() const;
    // The options given at construction (ignore_command and backend apply to every handshake).
    const PublicKeyServerOptions& options() const noexcept;

private:
    std::shared_ptr<const Snapshot> load() const;

    PublicKeyServerOptions options_;
    CurrentSnapshot<Snapshot> current_;
};

// The server layer. Loads the files now (errors are thrown here, at build time).
Authenticator public_key(PublicKeyServerOptions options);
// The server layer over shared files: keep the pointer and call reload() on SIGHUP.
Authenticator public_key(std::shared_ptr<PublicKeyFiles> files);

namespace client {

struct PublicKeyClientOptions {
    std::filesystem::path identity{};  // private key file, mode 0600
    // Asked for once, when the layer is built; the layer keeps neither it nor its source.
    openssh::Passphrase passphrase{};
    std::filesystem::path known_hosts{};  // may be missing (then every host is unknown)
    // The name looked up in known_hosts. Empty: the host the connection
    // dialled (tcp_connect records it; Stream::dialled()).
    std::string host_name{};
    // 22: the plain name, any other port "[name]:port". 0: the port the
    // connection dialled when host_name is empty or the name dialled, else 22.
    std::uint16_t port = 0;
    bool strict = true;                 // false = accept-new: unknown hosts are appended (TOFU)
    bool hash_new_hosts = false;        // accept-new writes the name hashed, as ssh-keygen -H
    // An OpenSSH user certificate for identity, presented instead of the
    // bare key. Empty: IDENTITY-cert.pub when that file exists (as ssh).
    std::filesystem::path certificate;
    // The principal claimed with the certificate; required when one is used.
    std::string user;
};

// The client layer. Loads the identity and reads known_hosts now (errors
// are thrown here: std::invalid_argument for an empty known_hosts path,
// std::runtime_error / openssh::FormatError for files);
// known_hosts is read again at each handshake, so a key appended by
// accept-new is known to the next one.
Authenticator public_key(PublicKeyClientOptions options);

}  // namespace client

}  // namespace authchain
