// authchain keygen as ssh-keygen: -b sizes, a missing directory, the
// passphrase from a file or the terminal (issue 13).
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include <authchain/auth/openssh/key.hpp>
#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"
#include "tests/tools/cli_support.hpp"

namespace {

using namespace authchain::test::cli_support;

std::string key_type(const std::filesystem::path& pub) {
    std::string line = authchain::test::read_file(pub);
    return line.substr(0, line.find(' '));
}

}  // namespace

TEST_CASE("keygen -b picks the ECDSA curve and the RSA modulus size, as ssh-keygen") {
    authchain::test::TempDir dir;
    for (const auto& curve : {std::pair{"256", "ecdsa-sha2-nistp256"}, std::pair{"384", "ecdsa-sha2-nistp384"},
                              std::pair{"521", "ecdsa-sha2-nistp521"}}) {
        const char* bits = curve.first;  // plain names: CAPTURE cannot take a structured binding (clang 14)
        const char* type = curve.second;
        CAPTURE(bits);
        const auto key = dir / (std::string("ec") + bits);
        REQUIRE(cli("keygen -t ecdsa -b " + std::string(bits) + " -C c -f " + arg(key)).status == 0);
        CHECK(key_type(key.string() + ".pub") == type);
        CHECK(authchain::openssh::PrivateKey::load(key).public_key().bits() == std::stoul(bits));
    }
    REQUIRE(cli("keygen -t rsa -b 2048 -C c -f " + arg(dir / "rsa")).status == 0);
    CHECK(authchain::openssh::PrivateKey::load(dir / "rsa").public_key().bits() == 2048);
}

TEST_CASE("keygen -b refuses sizes ssh-keygen refuses, with exit 2 and no file") {
    authchain::test::TempDir dir;
    auto ec = cli("keygen -t ecdsa -b 512 -f " + arg(dir / "x"));
    CHECK(ec.status == 2);
    CHECK(contains(ec.output, "256, 384 or 521"));
    auto rsa = cli("keygen -t rsa -b 1024 -f " + arg(dir / "x"));
    CHECK(rsa.status == 2);
    CHECK(contains(rsa.output, "2048..8192"));
    CHECK_FALSE(std::filesystem::exists(dir / "x"));
}

TEST_CASE("keygen into a missing directory exits 2 naming the directory") {
    authchain::test::TempDir dir;
    auto r = cli("keygen -f " + arg(dir / "nowhere" / "id"));
    CHECK(r.status == 2);
    CHECK(contains(r.output, (dir / "nowhere").string()));
}

TEST_CASE("keygen --passphrase-file encrypts with the file's passphrase (final newline dropped)") {
    authchain::test::TempDir dir;
    authchain::test::write_file(dir / "pass", "file pass phrase\n", 0600);
    const auto key = dir / "id";
    REQUIRE(cli("keygen -C c --passphrase-file " + arg(dir / "pass") + " -f " + arg(key)).status == 0);
    CHECK_THROWS_AS(authchain::openssh::PrivateKey::load(key), authchain::openssh::FormatError);
    CHECK_NOTHROW(authchain::openssh::PrivateKey::load(key, "file pass phrase"));

    // A passphrase file others can read is refused, as a private key would be.
    authchain::test::write_file(dir / "open", "p\n", 0644);
    auto open = cli("keygen -C c --passphrase-file " + arg(dir / "open") + " -f " + arg(dir / "id2"));
    CHECK(open.status == 2);
    CHECK_FALSE(std::filesystem::exists(dir / "id2"));
}

TEST_CASE("keygen --ask-passphrase without a terminal exits 2 and writes nothing") {
    authchain::test::TempDir dir;
    // setsid detaches from the controlling terminal, so /dev/tty cannot be opened.
    Result detached;
    detached.status = authchain::test::shell("setsid -w " + binary() + " keygen --ask-passphrase -C c -f " +
                                                 arg(dir / "id3") + " </dev/null",
                                             &detached.output);
    CHECK(detached.status == 2);
    CHECK(contains(detached.output, "no terminal"));
    CHECK_FALSE(std::filesystem::exists(dir / "id3"));
}

TEST_CASE("keygen --ask-passphrase reads the passphrase from the terminal without echo" *
          doctest::skip(authchain::test::skip_missing({"python3"}))) {
    authchain::test::require_tools({"python3"});
    authchain::test::TempDir dir;
    const auto key = dir / "id";
    // A pty as the controlling terminal: the prompt is answered twice; the transcript must not echo it.
    const std::string script =
        "import os, pty, sys\n"
        "pid, fd = pty.fork()\n"
        "if pid == 0:\n"
        "    os.execv(sys.argv[1], [sys.argv[1], 'keygen', '--ask-passphrase', '-C', 'c', '-f', sys.argv[2]])\n"
        "out = b''\n"
        "def until(s):\n"
        "    global out\n"
        "    while s not in out:\n"
        "        b = os.read(fd, 1024)\n"
        "        if not b: sys.exit('eof: ' + out.decode())\n"
        "        out += b\n"
        "until(b'Enter passphrase'); os.write(fd, b'typed secret\\n')\n"
        "until(b'again'); os.write(fd, b'typed secret\\n')\n"
        "try:\n"
        "    while True:\n"
        "        b = os.read(fd, 1024)\n"
        "        if not b: break\n"
        "        out += b\n"
        "except OSError: pass\n"
        "_, st = os.waitpid(pid, 0)\n"
        "sys.stdout.write(out.decode())\n"
        "sys.exit(os.waitstatus_to_exitcode(st))\n";
    authchain::test::write_file(dir / "drive.py", script);
    std::string out;
    int status = authchain::test::shell("timeout 60 python3 " + arg(dir / "drive.py") + " " +
                                            binary() + " " + arg(key),
                                        &out);
    INFO(out);
    REQUIRE(status == 0);
    CHECK_FALSE(contains(out, "typed secret"));
    CHECK_NOTHROW(authchain::openssh::PrivateKey::load(key, "typed secret"));
}
