// Key files for the tools: `authchain keygen` and `authchain fingerprint`.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace authchain::openssh {

// authchain keygen: writes PATH (openssh-key-v1, mode 0600) and PATH.pub
// ("type base64 comment\n", mode 0644), each atomically (temp file in the
// same directory, fsync, rename). Refuses (std::runtime_error) to overwrite
// an existing PATH or PATH.pub unless overwrite=true. Types: "ed25519"
// (default), "ecdsa" (nistp256), "rsa" (3072 bits); `bits` as ssh-keygen -b
// (0 = the default; ecdsa 256, 384 or 521; rsa 2048..8192; ed25519 ignores
// it, as ssh-keygen does); others throw std::invalid_argument. With a
// passphrase: aes256-ctr + bcrypt as ssh-keygen.
void write_keypair(const std::filesystem::path& path, std::string_view comment,
                   std::optional<std::string_view> passphrase,
                   std::string_view type = "ed25519", bool overwrite = false, std::size_t bits = 0);

// authchain fingerprint FILE: "BITS SHA256:... COMMENT (TYPE)" exactly as
// `ssh-keygen -l -f FILE` (OpenSSH 9.2) prints it, without the final newline.
// - A .pub, authorized_keys or known_hosts style file: one line per key, joined
//   by '\n'; blank, '#' and unparsable lines skipped; "no comment" when a line
//   has none, except that, as ssh-keygen, a line with options or host names
//   and no comment shows the options as its comment. (ssh-keygen's leftover
//   comment of an earlier line is not reproduced: we print "no comment".)
// - A private key file (first line contains "PRIVATE KEY"): as ssh-keygen,
//   the key and comment of FILE.pub when it holds a key (its comment, or the
//   name FILE.pub when it has none); else the public key stored unencrypted in
//   an openssh-key-v1 file with the comment stored in the file if it is not
//   encrypted, "no comment" if it is; else an unencrypted PEM key ("no
//   comment"). Only when none of this yields a key (encrypted PEM) is
//   `passphrase` used to decrypt it; ssh-keygen would fail there.
// Throws std::runtime_error ("... is not a public key file." / "... is not a
// key file.") when no key is found, or when FILE cannot be read.
std::string fingerprint_line(const std::filesystem::path& path,
                             std::optional<std::string_view> passphrase = {});

}  // namespace authchain::openssh
