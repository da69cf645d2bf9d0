// The password layer's user database: one `user:PHC-string` per line, '#'
// comments and blank lines ignored, e.g.
//
//     # written by `authchain passwd users add alice`
//     alice:$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<hash, base64>
//
// The PHC string is what Botan::argon2_generate_pwhash writes (Argon2id
// only); its parameters travel in it, so they can be raised later user by
// user. Parsing is pure (no I/O, fuzzed); hashing and checking call Botan;
// reading and rewriting the file are in the last section.
#pragma once

#include <botan/secmem.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authchain::userdb {

// Argon2id cost: memory in KiB, iterations (passes), lanes.
struct Argon2Params {
    std::uint32_t memory_kib = 19456;
    std::uint32_t iterations = 2;
    std::uint32_t parallelism = 1;
    bool operator==(const Argon2Params&) const = default;
};

// OWASP's minimum for Argon2id (m=19 MiB, t=2, p=1): the default for new
// hashes and the default minimum below which a loaded hash is reported.
inline constexpr Argon2Params owasp_argon2id{19456, 2, 1};

// What a stored hash may ask for, so a tampered file cannot make one check
// allocate gigabytes or spin for minutes: memory 8*p .. 1 GiB, iterations
// 1..64, lanes 1..16. Lines outside are skipped (with a warning).
inline constexpr std::uint32_t max_memory_kib = 1024 * 1024;
inline constexpr std::uint32_t max_iterations = 64;
inline constexpr std::uint32_t max_parallelism = 16;

inline constexpr std::size_t max_user_name = 64;
inline constexpr std::size_t max_password = 1024;
inline constexpr std::size_t max_user_line = 512;
inline constexpr std::size_t max_users = 100000;
inline constexpr std::size_t max_user_database_size = 16 * 1024 * 1024;

using Secret = Botan::secure_vector<char>;

// A user name: 1..max_user_name bytes of ASCII letters, digits and ". _ - @ +".
bool valid_user_name(std::string_view user);
// Why `user` is not a valid user name ("" when it is).
std::string user_name_error(std::string_view user);

// "m=19456 KiB, t=2, p=1"
std::string to_string(const Argon2Params& params);
// True when `params` is weaker than `minimum` in memory or iterations.
bool weaker_than(const Argon2Params& params, const Argon2Params& minimum);
// Why `params` cannot be used to hash ("" when it can): the bounds above.
std::string params_error(const Argon2Params& params);

// The parameters of a PHC string "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH"
// (base64 without padding, salt 8..64 bytes, hash 16..64 bytes), or why it
// is refused (`why` gets it). Strict: exactly that shape and order.
std::optional<Argon2Params> parse_phc(std::string_view phc, std::string* why = nullptr);

struct UserEntry {
    std::string user;
    std::string phc;  // checked by parse_phc
    Argon2Params params;
    std::string source;  // "file:line"
};

struct UserDatabase {
    std::vector<UserEntry> entries;     // file order; user names unique
    std::vector<std::string> warnings;  // "file:line: why; line skipped"
    std::map<std::string, std::size_t, std::less<>> index;  // user -> position in entries
    // The entry of `user`, or nullptr.
    const UserEntry* find(std::string_view user) const;
};

// Parses a whole file; `file_name` names it in warnings. Lines that are
// malformed, name an invalid user, hold a refused PHC string, or repeat a
// user (the first line wins) are skipped with a warning. Pure.
UserDatabase parse_user_database(std::string_view text, std::string_view file_name);

// "file:line: user "bob": m=64 KiB, t=1, p=1 is weaker than the minimum ..."
// for each entry weaker than `minimum`.
std::vector<std::string> weak_hash_warnings(const UserDatabase& db, const Argon2Params& minimum);

// The text with `user` set to `phc`: its line replaced in place, or a line
// appended (after a '\n' if the text does not end with one). Other lines,
// comments included, are kept byte for byte. Pure.
std::string with_user(std::string_view text, std::string_view user, std::string_view phc);
// The text without any line for `user`. Pure.
std::string without_user(std::string_view text, std::string_view user);

// --- Hashing (Botan Argon2id) ---

// A new PHC string for `password` (16-byte salt from the system RNG, 32-byte
// hash). Throws std::invalid_argument when params_error(params) is not empty.
std::string hash_password(std::string_view password, const Argon2Params& params);
// Runs Argon2id on `password` with the salt and parameters of `phc` and
// compares in constant time (Botan::argon2_check_pwhash). False for a PHC
// string parse_phc refuses (without hashing). Counts in password_verifications().
bool verify_password(std::string_view password, const std::string& phc);
// How many Argon2 verifications this process ran (for tests: a refused
// attempt that costs no hash leaves it unchanged).
std::uint64_t password_verifications();

// --- The file ---

// Opens `path` with openssh::open_checked(path, is_private=true) (mode 0600
// or stricter, owner, safe directories, no symlink), reads at most
// max_user_database_size bytes from that descriptor and parses it. Throws
// std::runtime_error naming the file.
UserDatabase read_user_database(const std::filesystem::path& path);

// What set_user and remove_user did.
enum class Change { added, replaced, removed, unchanged };

// Sets `user`'s hash of `password` in the file at `path`, creating it when
// missing. Refuses (std::runtime_error) an invalid user name, an empty or
// too long password, an existing user unless `replace`, and a file or
// directory with unsafe modes. Rewrites the file atomically with mode 0600
// (openssh::write_file_atomically): a reader sees the old file or the new.
Change set_user(const std::filesystem::path& path, std::string_view user, std::string_view password,
                const Argon2Params& params, bool replace);
// Removes `user` from the file; unchanged (and nothing written) when absent.
Change remove_user(const std::filesystem::path& path, std::string_view user);

}  // namespace authchain::userdb
