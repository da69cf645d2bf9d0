// Whole files: the bounded read and the atomic replace every file reader
// and writer of auth/openssh/ goes through.
#include "auth/openssh/file_mode.hpp"
#include "auth/openssh/key.hpp"
#include "auth/openssh/keyfile.hpp"
#include "auth/openssh/private_key_file.hpp"
#include "auth/openssh/text_file.hpp"
#include "auth/openssh/whole_file.hpp"
#include "tests/support/run.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

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

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

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
    ::chmod(dir.path().c_str(), 01777);  // sticky, as /tmp: others cannot replace the file
    CHECK_NOTHROW(check_directory_of(dir / "new"));
    ::chmod(dir.path().c_str(), 0700);
    CHECK_THROWS_AS(check_directory_of(dir / "missing" / "new"), std::runtime_error);
}
