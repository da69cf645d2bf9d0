// authchain passwd: add (refusing an existing user without --force), remove,
// check (exit 0 match, 3 mismatch), list; mode 0600, atomic rewrites, no
// plaintext; the password read as one line from stdin (not a terminal here).
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <cstdlib>
#include <string>

#include <authchain/auth/password/user_database.hpp>
#include "tests/support/run.hpp"
#include "tests/tools/cli_support.hpp"

namespace {

using namespace authchain::test::cli_support;
using authchain::test::TempDir;

// `printf '%s' INPUT | authchain passwd FILE ARGS` with cheap Argon2 parameters for add.
Result passwd(const std::filesystem::path& file, const std::string& args, const std::string& input) {
    Result r;
    r.status = authchain::test::shell("printf '%s' '" + input + "' | " + binary() + " passwd " + arg(file) + " " +
                                          args + " -m 64 -t 1 2>&1",
                                      &r.output);
    return r;
}

using authchain::test::mode_of;

ino_t inode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_ino;
}

std::size_t entries_in(const std::filesystem::path& dir) {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

}  // namespace

TEST_CASE("passwd add writes an Argon2id hash, mode 0600, never the password") {
    TempDir dir;
    auto file = dir / "users";
    auto r = passwd(file, "add alice", "correct horse\n");
    CHECK_MESSAGE(r.status == 0, r.output);
    CHECK(contains(r.output, "added user alice"));
    CHECK(contains(r.output, "WARNING: m=64 KiB, t=1, p=1 is weaker than OWASP"));
    CHECK(mode_of(file) == 0600);
    std::string text = authchain::test::read_file(file);
    CHECK(text.starts_with("alice:$argon2id$v=19$m=64,t=1,p=1$"));
    CHECK_FALSE(contains(text, "correct horse"));
    CHECK(authchain::userdb::verify_password("correct horse", authchain::userdb::read_user_database(file).find("alice")->phc));
    CHECK(entries_in(dir.path()) == 1);  // no temp file left behind
}

TEST_CASE("passwd add refuses an existing user without --force and leaves the file as it was") {
    TempDir dir;
    auto file = dir / "users";
    REQUIRE(passwd(file, "add alice", "one\n").status == 0);
    std::string before = authchain::test::read_file(file);
    auto again = passwd(file, "add alice", "two\n");
    CHECK(again.status == 2);
    CHECK(contains(again.output, "user \"alice\" already exists"));
    CHECK(authchain::test::read_file(file) == before);

    ino_t old_inode = inode_of(file);
    auto forced = passwd(file, "add alice --force", "two\n");
    CHECK_MESSAGE(forced.status == 0, forced.output);
    CHECK(contains(forced.output, "new password for user alice"));
    CHECK(inode_of(file) != old_inode);  // replaced by rename, not rewritten in place
    CHECK(mode_of(file) == 0600);
    CHECK(passwd(file, "check alice", "two\n").status == 0);
    CHECK(passwd(file, "check alice", "one\n").status == 3);
}

TEST_CASE("passwd check exits 0 on a match, 3 on a wrong password or an unknown user") {
    TempDir dir;
    auto file = dir / "users";
    REQUIRE(passwd(file, "add alice", "correct horse\n").status == 0);
    auto ok = passwd(file, "check alice", "correct horse\n");
    CHECK_MESSAGE(ok.status == 0, ok.output);
    CHECK(contains(ok.output, "matches"));
    CHECK(contains(ok.output, "weaker than the minimum"));  // reported by check too
    CHECK(passwd(file, "check alice", "correct horse\r\n").status == 0);  // CRLF input
    auto wrong = passwd(file, "check alice", "wrong horse\n");
    CHECK(wrong.status == 3);
    CHECK(contains(wrong.output, "wrong password for user alice"));
    auto unknown = passwd(file, "check mallory", "correct horse\n");
    CHECK(unknown.status == 3);
    CHECK(contains(unknown.output, "no user mallory"));
}

TEST_CASE("passwd remove and list") {
    TempDir dir;
    auto file = dir / "users";
    REQUIRE(passwd(file, "add alice", "a\n").status == 0);
    REQUIRE(passwd(file, "add bob", "b\n").status == 0);
    auto listed = passwd(file, "list", "");
    CHECK(listed.status == 0);
    CHECK(contains(listed.output, "alice argon2id m=64 KiB, t=1, p=1 (weaker than OWASP's minimum)\n"));
    CHECK(contains(listed.output, "bob argon2id"));
    CHECK_FALSE(contains(listed.output, "$argon2id"));  // never the hashes

    auto removed = passwd(file, "remove alice", "");
    CHECK(removed.status == 0);
    CHECK(contains(removed.output, "removed user alice"));
    CHECK(mode_of(file) == 0600);
    CHECK_FALSE(contains(authchain::test::read_file(file), "alice"));
    auto missing = passwd(file, "remove alice", "");
    CHECK(missing.status == 2);
    CHECK(contains(missing.output, "no user alice"));
    CHECK(passwd(file, "check alice", "a\n").status == 3);
    CHECK(passwd(file, "check bob", "b\n").status == 0);
}

TEST_CASE("passwd refuses bad input and unsafe files, exit 2, the file unchanged") {
    TempDir dir;
    auto file = dir / "users";
    CHECK(passwd(file, "add alice", "").status == 2);      // no password
    CHECK(passwd(file, "add alice", "\n").status == 2);    // empty password
    CHECK_FALSE(std::filesystem::exists(file));
    CHECK(passwd(file, "add 'al ice'", "x\n").status == 2);
    CHECK(passwd(file, "add", "x\n").status == 2);         // no user
    CHECK(passwd(file, "frobnicate alice", "x\n").status == 2);
    auto bad_params = passwd(file, "add alice -t 0", "x\n");
    CHECK(bad_params.status == 2);
    CHECK_FALSE(std::filesystem::exists(file));

    REQUIRE(passwd(file, "add alice", "a\n").status == 0);
    std::string before = authchain::test::read_file(file);
    std::filesystem::permissions(file, std::filesystem::perms(0644));
    auto open = passwd(file, "add bob", "b\n");
    CHECK(open.status == 2);
    CHECK(contains(open.output, "too open"));
    CHECK(passwd(file, "check alice", "a\n").status == 2);
    CHECK(authchain::test::read_file(file) == before);
    CHECK(mode_of(file) == 0644);
}
