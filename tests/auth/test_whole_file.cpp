// Whole files: the bounded read and the atomic replace every file reader
// and writer of auth/openssh/ goes through.
#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/openssh/private_key_file.hpp>
#include <authchain/auth/openssh/text_file.hpp>
#include <authchain/auth/openssh/whole_file.hpp>
#include "tests/support/run.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

using namespace authchain;
using namespace authchain::openssh;

namespace {

int entries_in(const std::filesystem::path& dir) {
    int n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
    return n;
}

using authchain::test::mode_of;

}  // namespace

TEST_CASE("read_file_bounded reads up to the bound and refuses one byte more") {
    test::TempDir dir;
    auto file = dir / "f";
    test::write_file(file, std::string(100, 'x'));
    std::string text = "old content";
    CHECK(read_file_bounded(file, 100, text) == ReadStatus::ok);
    CHECK(text == std::string(100, 'x'));
    CHECK(read_file_bounded(file, 99, text) == ReadStatus::too_large);
    CHECK(text.empty());  // nothing of a refused file is kept
    Botan::secure_vector<char> secret;
    CHECK(read_file_bounded(file, 100, secret) == ReadStatus::ok);
    CHECK(std::string(secret.begin(), secret.end()) == std::string(100, 'x'));
    CHECK(read_file_bounded(file, 10, secret) == ReadStatus::too_large);
    CHECK(secret.empty());
}

TEST_CASE("read_file_bounded says why a file cannot be read, errno kept") {
    test::TempDir dir;
    std::string text;
    CHECK(read_file_bounded(dir / "missing", 10, text) == ReadStatus::cannot_open);
    CHECK(errno == ENOENT);
    CHECK(read_file_bounded(dir.path(), 10, text) == ReadStatus::cannot_read);
    CHECK(errno == EISDIR);
    test::write_file(dir / "empty", "");
    CHECK(read_file_bounded(dir / "empty", 0, text) == ReadStatus::ok);
    CHECK(text.empty());
}

TEST_CASE("each bounded reader keeps its bound and its message") {
    test::TempDir dir;
    auto big = dir / "big";
    test::write_file(big, std::string(max_private_key_text + 1, 'a'), 0600);
    const std::string key_too_large = "private key file '" + big.string() + "' is too large";
    CHECK_THROWS_WITH(PrivateKey::load(big), doctest::Contains(key_too_large.c_str()));
    CHECK_THROWS_AS(PrivateKey::load(big), FormatError);
    const std::string trusted_too_large = big.string() + " is larger than 1000 bytes";
    CHECK_THROWS_WITH(read_trusted_file(big, 1000), trusted_too_large.c_str());
    auto huge = dir / "huge";
    test::write_file(huge, std::string(1024 * 1024 + 1, '#'));
    const std::string key_file_too_large = "'" + huge.string() + "' is too large";
    CHECK_THROWS_WITH(fingerprint_line(huge), key_file_too_large.c_str());
}

TEST_CASE("write_file_atomically gives the mode, replaces the content and leaves no temp file") {
    test::TempDir dir;
    auto file = dir / "out";
    write_file_atomically(file, "one\n", 0640);
    CHECK(test::read_file(file) == "one\n");
    CHECK(mode_of(file) == 0640);
    write_file_atomically(file, "two\n", 0600);
    CHECK(test::read_file(file) == "two\n");
    CHECK(mode_of(file) == 0600);
    CHECK(entries_in(dir.path()) == 1);
    write_file_atomically(file, "", 0644);
    CHECK(test::read_file(file).empty());
    CHECK(mode_of(file) == 0644);
}

TEST_CASE("write_file_atomically that fails leaves the old file and no temp file") {
    test::TempDir dir;
    // The rename fails: the target is a directory that is not empty.
    auto target = dir / "target";
    std::filesystem::create_directory(target);
    test::write_file(target / "inside", "x");
    CHECK_THROWS_AS(write_file_atomically(target, "new", 0600), std::system_error);
    CHECK(std::filesystem::is_directory(target));
    CHECK(entries_in(dir.path()) == 1);
    // The temp file cannot be created: the directory is missing.
    CHECK_THROWS_WITH(write_file_atomically(dir / "no" / "file", "x", 0600),
                      doctest::Contains("cannot create a temporary file for"));
    // Not writable (root may write anyway: then the write simply succeeds).
    auto file = dir / "kept";
    write_file_atomically(file, "old", 0600);
    ::chmod(dir.path().c_str(), 0500);
    try {
        write_file_atomically(file, "new", 0600);
    } catch (const std::system_error&) {
        CHECK(test::read_file(file) == "old");
    }
    ::chmod(dir.path().c_str(), 0700);
    CHECK(entries_in(dir.path()) == 2);
}

TEST_CASE("check_directory_of: a file about to be created needs a directory others cannot write") {
    test::TempDir dir;
    CHECK_NOTHROW(check_directory_of(dir / "new"));
    ::chmod(dir.path().c_str(), 0770);
    CHECK_THROWS_WITH(check_directory_of(dir / "new"), doctest::Contains("Bad permissions 0770 on directory"));
    // Sticky, as /tmp: others cannot replace a file, but they can plant one
    // where it is expected (OpenSSH's safe_path refuses it too).
    ::chmod(dir.path().c_str(), 01777);
    CHECK_THROWS_WITH(check_directory_of(dir / "new"), doctest::Contains("Bad permissions 1777 on directory"));
    ::chmod(dir.path().c_str(), 0700);
    CHECK_THROWS_AS(check_directory_of(dir / "missing" / "new"), std::runtime_error);
}

// Issue 14: StrictModes walks every directory up to / (OpenSSH's safe_path),
// does not follow symbolic links, and checks the descriptor it reads.

TEST_CASE("trusted file: a sticky world-writable directory holding it is refused") {
    test::TempDir dir;
    auto open = dir / "open";
    std::filesystem::create_directory(open);
    test::write_file(open / "authorized_keys", "# keys\n", 0600);
    ::chmod(open.c_str(), 01777);
    CHECK_THROWS_WITH(read_trusted_file(open / "authorized_keys"), doctest::Contains("Bad permissions 1777"));
    CHECK_THROWS(check_file_mode(open / "authorized_keys", false));
    ::chmod(open.c_str(), 0755);
    CHECK(read_trusted_file(open / "authorized_keys") == "# keys\n");
}

TEST_CASE("trusted file: a world-writable directory anywhere above it is refused") {
    test::TempDir dir;
    auto private_dir = dir / "open" / "ssh";
    std::filesystem::create_directories(private_dir);
    ::chmod(private_dir.c_str(), 0700);
    test::write_file(private_dir / "authorized_keys", "# keys\n", 0600);
    for (mode_t mode : {0777, 0775, 0757}) {
        CAPTURE(mode);
        ::chmod((dir / "open").c_str(), mode);
        // Whoever can write there can rename ssh/ away and put their own in its place.
        const std::string refused = "on directory '" + (dir / "open").string() + "'";
        CHECK_THROWS_WITH(read_trusted_file(private_dir / "authorized_keys"), doctest::Contains(refused.c_str()));
        CHECK_THROWS(check_file_mode(private_dir / "authorized_keys", true));
    }
    ::chmod((dir / "open").c_str(), 0755);
    CHECK(read_trusted_file(private_dir / "authorized_keys") == "# keys\n");
}

TEST_CASE("trusted file: a symbolic link is not followed, not even into a safe file") {
    test::TempDir dir;
    auto open = dir / "open";
    std::filesystem::create_directory(open);
    ::chmod(open.c_str(), 0777);
    test::write_file(open / "authorized_keys", "# planted\n", 0600);
    // A link to a file in a 0777 directory...
    std::filesystem::create_symlink(open / "authorized_keys", dir / "authorized_keys");
    CHECK_THROWS_WITH(read_trusted_file(dir / "authorized_keys"), doctest::Contains("symbolic link"));
    CHECK_THROWS(check_file_mode(dir / "authorized_keys", false));
    // ...a link to a directory that is 0777: the real path is what is checked.
    std::filesystem::create_directory_symlink(open, dir / "keys");
    const std::string refused = "on directory '" + open.string() + "'";
    CHECK_THROWS_WITH(read_trusted_file(dir / "keys" / "authorized_keys"), doctest::Contains(refused.c_str()));
    // ...and a link to a good file is refused as well (O_NOFOLLOW).
    test::write_file(dir / "good", "# good\n", 0600);
    std::filesystem::create_symlink(dir / "good", dir / "alias");
    CHECK_THROWS(read_trusted_file(dir / "alias"));
    CHECK(read_trusted_file(dir / "good") == "# good\n");
}

TEST_CASE("trusted file: a FIFO is refused at once, never read (nor waited on)") {
    test::TempDir dir;
    REQUIRE(::mkfifo((dir / "authorized_keys").c_str(), 0600) == 0);
    CHECK_THROWS_WITH(read_trusted_file(dir / "authorized_keys"), doctest::Contains("not a regular file"));
    CHECK_THROWS_WITH(open_checked(dir / "authorized_keys", false), doctest::Contains("not a regular file"));
}

TEST_CASE("open_checked: what was checked is what is read, whatever happens to the path after") {
    test::TempDir dir;
    test::write_file(dir / "authorized_keys", "# checked\n", 0600);
    FileDescriptor file = open_checked(dir / "authorized_keys", false);
    // Swapped after the check: a file others may write takes its place.
    test::write_file(dir / "swapped", "# swapped\n", 0666);
    ::chmod((dir / "swapped").c_str(), 0666);
    std::filesystem::rename(dir / "swapped", dir / "authorized_keys");
    std::string text;
    REQUIRE(read_fd_bounded(file.get(), 1000, text) == ReadStatus::ok);
    CHECK(text == "# checked\n");
    CHECK_THROWS(open_checked(dir / "authorized_keys", false));  // and the swapped file is refused
}

TEST_CASE("open_checked: a file in a private directory under /tmp (sticky, root-owned) is accepted") {
    test::TempDir dir;  // mkdtemp: 0700 under /tmp (1777 root), the deviation documented in file_mode.hpp
    test::write_file(dir / "authorized_keys", "# ok\n", 0600);
    CHECK_NOTHROW(open_checked(dir / "authorized_keys", true));
}
