// The passphrase of a private key: asked for when the key is decrypted and
// wiped right after (DESIGN rule 1; spiped's insecure_memzero). A source is
// kept, not the secret, so a key re-read later (PublicKeyFiles::reload on
// SIGHUP) can be decrypted again.
#pragma once

#include <botan/secmem.h>

#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <authchain/auth/openssh/key.hpp>

namespace authchain::openssh {

inline constexpr std::size_t max_passphrase_file = 1024;

class Passphrase {
public:
    using Secret = Botan::secure_vector<char>;
    // Called at each decryption; nullopt means "no passphrase".
    using Source = std::function<std::optional<Secret>()>;

    // None: the key must not be encrypted.
    Passphrase() = default;
    Passphrase(std::nullopt_t) {}
    // A fixed passphrase. It has to be kept for a later reload: it is held
    // in a secure_vector, shared by copies and wiped with the last one; the
    // string passed in (moved in, or the copy made of it) is wiped now.
    // Prefer from_file or from_source, which keep nothing between uses.
    Passphrase(std::string text);
    Passphrase(const char* text) : Passphrase(std::string(text)) {}
    Passphrase(std::optional<std::string> text);

    // Read at each use from `path`: mode checked as a private key
    // (check_file_mode(path, true)), at most max_passphrase_file bytes,
    // final CR/LF removed. Throws std::runtime_error naming the file.
    static Passphrase from_file(std::filesystem::path path);
    // Asked at each use (a prompt, an agent, a test).
    static Passphrase from_source(Source source);

    // False when there is none.
    explicit operator bool() const { return static_cast<bool>(source_); }
    // The passphrase for one use; hold it only until the key is decrypted.
    std::optional<Secret> get() const;

private:
    Source source_;
};

// PrivateKey::load with the passphrase asked for just before decryption and
// wiped when it returns (or throws).
PrivateKey load_private_key(const std::filesystem::path& path, const Passphrase& passphrase);

// Overwrites the characters of `secret`, up to its capacity, then clears it.
void wipe(std::string& secret);

}  // namespace authchain::openssh
