// Fuzzes the user database parser on a whole file (and the PHC parser on
// the whole input), then the line edits passwd makes: setting a user must
// give text that parses to that user's new hash, removing one text without it.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <authchain/auth/password/user_database.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain::userdb;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    (void)parse_phc(text);
    UserDatabase db = parse_user_database(text, "fuzz");
    (void)weak_hash_warnings(db, owasp_argon2id);
    // Setting a user gives exactly that user's new hash (below the entry cap).
    static const std::string phc = "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
    UserDatabase edited = parse_user_database(with_user(text, "fuzz.user", phc), "fuzz");
    const UserEntry* added = edited.find("fuzz.user");
    if (db.entries.size() + 1 < max_users && (!added || added->phc != phc)) std::abort();
    // Removing a user leaves no line of it.
    if (!db.entries.empty() && parse_user_database(without_user(text, db.entries.front().user), "fuzz")
                                   .find(db.entries.front().user))
        std::abort();
    return 0;
}
