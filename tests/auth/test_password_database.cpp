// The user database: PHC strings, the file's lines, the edits passwd makes,
// hashing, and the file rules.
#include <doctest/doctest.h>

#include <authchain/auth/password/user_database.hpp>
#include "tests/auth/password_fixture.hpp"
#include "tests/support/run.hpp"

using namespace authchain;
using namespace authchain::userdb;

namespace {

using authchain::pw_test::quick;
const std::string salt = "c2FsdHNhbHRzYWx0";                   // 12 bytes
const std::string hash = "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhh";  // 30 bytes

std::string phc(const std::string& params) { return "$argon2id$v=19$" + params + "$" + salt + "$" + hash; }

std::string why_refused(const std::string& text) {
    std::string why;
    CHECK_FALSE(parse_phc(text, &why));
    return why;
}

using authchain::test::mode_of;

}  // namespace

TEST_CASE("userdb: PHC strings as Botan writes them parse; anything else is refused with a reason") {
    CHECK(parse_phc(phc("m=19456,t=2,p=1")) == Argon2Params{19456, 2, 1});
    CHECK(parse_phc(hash_password("pw", quick)) == quick);
    CHECK(why_refused("argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash).find("not a PHC string") == 0);
    CHECK(why_refused("$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + hash) == "algorithm \"argon2i\" is not argon2id");
    CHECK(why_refused("$argon2id$v=16$m=64,t=1,p=1$" + salt + "$" + hash) == "Argon2 version is not v=19");
    for (std::string bad : {"t=1,m=64,p=1", "m=64,t=1", "m=64,t=1,p=1,x=2", "m=064,t=1,p=1", "m=64,t=-1,p=1",
                            "m=99999999999,t=1,p=1", "m=,t=1,p=1"}) {
        CAPTURE(bad);
        CHECK(why_refused(phc(bad)).find("parameters are not") == 0);
    }
    CHECK(why_refused(phc("m=2097152,t=1,p=1")).find("m=2097152 KiB out of range") == 0);  // 2 GiB
    CHECK(why_refused(phc("m=64,t=65,p=1")).find("t=65 out of range") == 0);
    CHECK(why_refused(phc("m=64,t=1,p=17")).find("p=17 out of range") == 0);
    CHECK(why_refused(phc("m=8,t=1,p=2")).find("at least 8 KiB per lane") != std::string::npos);
    CHECK(why_refused("$argon2id$v=19$m=64,t=1,p=1$" + salt).find("expected salt and hash") == 0);
    CHECK(why_refused("$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + hash + "$x").find("expected salt and hash") == 0);
    CHECK(why_refused("$argon2id$v=19$m=64,t=1,p=1$c2Fs$" + hash) == "salt of 3 bytes (expected 8..64)");
    CHECK(why_refused("$argon2id$v=19$m=64,t=1,p=1$" + salt + "$aGFz") == "hash of 3 bytes (expected 16..64)");
    CHECK(why_refused("$argon2id$v=19$m=64,t=1,p=1$" + salt + "==$" + hash) == "salt is not unpadded base64");
}

TEST_CASE("userdb: the file's lines: comments, blanks, CRLF; bad lines skipped with file:line") {
    std::string text = "# users\n"
                       "\n"
                       "alice:" + phc("m=19456,t=2,p=1") + "\r\n"
                       "  bob:" + phc("m=64,t=1,p=1") + "  \n"
                       "no colon here\n"
                       "bad user:" + phc("m=64,t=1,p=1") + "\n"
                       "alice:" + phc("m=64,t=1,p=1") + "\n"
                       "carol:$argon2id$v=19$m=64\n"
                       ":" + phc("m=64,t=1,p=1") + "\n"
                       + std::string(600, 'x') + "\n";
    UserDatabase db = parse_user_database(text, "users");
    REQUIRE(db.entries.size() == 2);
    CHECK(db.entries[0].user == "alice");
    CHECK(db.entries[0].params == Argon2Params{19456, 2, 1});
    CHECK(db.entries[0].source == "users:3");
    CHECK(db.entries[1].user == "bob");
    CHECK(db.find("bob") == &db.entries[1]);
    CHECK(db.find("carol") == nullptr);
    REQUIRE(db.warnings.size() == 6);
    CHECK(db.warnings[0] == "users:5: expected user:hash; line skipped");
    CHECK(db.warnings[1].find("users:6: user name with a character") == 0);
    CHECK(db.warnings[2] == "users:7: user \"alice\" again (users:3 is used); line skipped");
    CHECK(db.warnings[3].find("users:8: user \"carol\": parameters are not") == 0);
    CHECK(db.warnings[4] == "users:9: empty user name; line skipped");
    CHECK(db.warnings[5] == "users:10: line longer than 512 bytes; line skipped");

    auto weak = weak_hash_warnings(db, owasp_argon2id);
    REQUIRE(weak.size() == 1);
    CHECK(weak[0].find("users:4: user \"bob\": m=64 KiB, t=1, p=1 is weaker than the minimum m=19456 KiB, t=2") == 0);
    CHECK(weak_hash_warnings(db, quick).empty());
}

TEST_CASE("userdb: user names") {
    for (std::string good : {"alice", "a", "alice.smith-2@example.org", "A_B+C"}) CHECK(valid_user_name(good));
    for (const std::string& bad : std::vector<std::string>{"", "al ice", "al:ice", "#alice", "ali\xc3\xa9", std::string(65, 'a'), std::string("a\0b", 3)})
        CHECK_FALSE(valid_user_name(bad));
    CHECK(valid_user_name(std::string(64, 'a')));
}

TEST_CASE("userdb: with_user and without_user keep every other line as it was") {
    std::string text = "# keep me\nalice:OLD\n\nbob:B\nalice:DUP\n# end";
    CHECK(with_user(text, "alice", "NEW") == "# keep me\nalice:NEW\n\nbob:B\n# end");
    CHECK(with_user(text, "carol", "C") == text + "\ncarol:C\n");
    CHECK(with_user("", "carol", "C") == "carol:C\n");
    CHECK(with_user("bob:B\n", "bob", "X") == "bob:X\n");
    CHECK(without_user(text, "alice") == "# keep me\n\nbob:B\n# end");
    CHECK(without_user(text, "carol") == text);
    CHECK(without_user("bob:B", "bob") == "");
    CHECK(without_user("bobby:B\n", "bob") == "bobby:B\n");  // a prefix is not the user
}

TEST_CASE("userdb: hash_password writes Argon2id that verify_password checks") {
    std::string h = hash_password("correct horse", quick);
    CHECK(h.starts_with("$argon2id$v=19$m=64,t=1,p=1$"));
    CHECK(h.find("correct") == std::string::npos);
    CHECK(verify_password("correct horse", h));
    CHECK_FALSE(verify_password("correct horsf", h));
    CHECK_FALSE(verify_password("", h));
    CHECK(hash_password("correct horse", quick) != h);  // a fresh salt each time
    CHECK_THROWS_AS(hash_password("x", Argon2Params{64, 0, 1}), std::invalid_argument);
    // A string parse_phc refuses is never handed to Botan (no hash spent).
    auto before = password_verifications();
    CHECK_FALSE(verify_password("x", "$argon2id$v=19$m=4294967295,t=1,p=1$" + salt + "$" + hash));
    CHECK(password_verifications() == before);
    CHECK(parse_phc(hash_password("x", owasp_argon2id)) == owasp_argon2id);  // the production default
}

TEST_CASE("userdb: set_user and remove_user rewrite the file atomically, mode 0600") {
    test::TempDir dir;
    auto file = dir / "users";
    CHECK(set_user(file, "alice", "correct horse", quick, false) == Change::added);
    CHECK(mode_of(file) == 0600);
    std::string first = test::read_file(file);
    CHECK(first.find("correct horse") == std::string::npos);
    CHECK(verify_password("correct horse", read_user_database(file).find("alice")->phc));

    // An existing user: refused unless replace; the file is untouched.
    CHECK_THROWS_WITH_AS(set_user(file, "alice", "other", quick, false),
                         doctest::Contains("already exists"), std::runtime_error);
    CHECK(test::read_file(file) == first);
    test::write_file(file, "# comment\n" + first, 0600);
    CHECK(set_user(file, "alice", "other", quick, true) == Change::replaced);
    CHECK(test::read_file(file).starts_with("# comment\nalice:$argon2id$"));
    CHECK(verify_password("other", read_user_database(file).find("alice")->phc));

    CHECK(set_user(file, "bob", "battery", quick, false) == Change::added);
    CHECK(remove_user(file, "alice") == Change::removed);
    CHECK(remove_user(file, "alice") == Change::unchanged);
    auto db = read_user_database(file);
    CHECK(db.find("alice") == nullptr);
    CHECK(db.find("bob") != nullptr);
    // No temp file left behind.
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
    CHECK(files == 1);

    CHECK_THROWS_AS(set_user(file, "bad user", "x", quick, false), std::runtime_error);
    CHECK_THROWS_AS(set_user(file, "carol", "", quick, false), std::runtime_error);
    CHECK_THROWS_AS(set_user(file, "carol", std::string(1025, 'x'), quick, false), std::runtime_error);
}

TEST_CASE("userdb: files readable or writable by others are refused, and left as they were") {
    test::TempDir dir;
    auto file = dir / "users";
    test::write_file(file, "alice:" + phc("m=64,t=1,p=1") + "\n", 0640);
    CHECK_THROWS_WITH_AS(read_user_database(file), doctest::Contains("too open"), std::runtime_error);
    CHECK_THROWS_AS(set_user(file, "bob", "x", quick, false), std::runtime_error);
    CHECK_THROWS_AS(remove_user(file, "alice"), std::runtime_error);
    CHECK(mode_of(file) == 0640);
    CHECK(test::read_file(file) == "alice:" + phc("m=64,t=1,p=1") + "\n");
    std::filesystem::create_symlink(file, dir / "link");
    std::filesystem::permissions(file, std::filesystem::perms(0600));
    CHECK_THROWS_AS(read_user_database(dir / "link"), std::runtime_error);  // no symlink followed
}
