// Interop with the real ssh-keygen (Debian openssh-client): it reads our keys,
// we read its keys, fingerprints agree byte for byte, and signatures verify
// both ways (through SSHSIG, `ssh-keygen -Y sign/verify`).
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>
#include "tests/interop/ssh_keygen.hpp"
#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"

#include <botan/base64.h>
#include <botan/hash.h>
#include <doctest/doctest.h>

#include <filesystem>

using namespace authchain;
using namespace authchain::openssh;

namespace {

using authchain::test::quote;
using authchain::test::require_ssh_keygen;
using authchain::test::run_ok;
using authchain::test::skip_without_ssh_keygen;

// "ed25519", "ecdsa", "ecdsa384", "ecdsa521", "rsa".
std::string keygen_type_args(const std::string& type) {
    if (type == "rsa") return "-t rsa -b 2048";
    if (type.starts_with("ecdsa") && type.size() > 5) return "-t ecdsa -b " + type.substr(5);
    return "-t " + type;
}

std::string first_two_fields(const std::string& line) {
    auto a = line.find(' ');
    auto b = line.find(' ', a + 1);
    return line.substr(0, b);
}

PublicKey parse_pub_line(const std::string& line) {
    auto a = line.find(' ');
    auto b = line.find(' ', a + 1);
    return PublicKey::from_base64(line.substr(0, a), line.substr(a + 1, b == std::string::npos ? b : b - a - 1));
}

constexpr std::string_view sshsig_magic = "SSHSIG";

Bytes sshsig_signed_data(std::string_view ns, ByteView message) {
    auto sha512 = Botan::HashFunction::create_or_throw("SHA-512");
    auto digest = sha512->process(message.data(), message.size());
    WireWriter w;
    w.raw(as_bytes(sshsig_magic)).string(ns).string("").string("sha512").string(ByteView(digest));
    return w.bytes();
}

// An armored SSHSIG (PROTOCOL.sshsig) made with authchain's signer.
std::string sshsig_sign(const PrivateKey& key, std::string_view ns, ByteView message) {
    Bytes sig = key.sign(sshsig_signed_data(ns, message));
    WireWriter w;
    w.raw(as_bytes(sshsig_magic)).u32(1).string(key.public_key().blob()).string(ns).string("").string("sha512").string(sig);
    std::string b64 = Botan::base64_encode(w.data());
    std::string text = "-----BEGIN SSH SIGNATURE-----\n";
    for (std::size_t i = 0; i < b64.size(); i += 70) text += b64.substr(i, 70) + "\n";
    return text + "-----END SSH SIGNATURE-----\n";
}

// Verifies an armored SSHSIG made by ssh-keygen with authchain's verifier.
bool sshsig_verify(const std::string& armored, std::string_view ns, ByteView message, PublicKey* signer) {
    std::string b64;
    std::size_t begin = armored.find('\n') + 1, end = armored.find("-----END");
    for (char c : armored.substr(begin, end - begin))
        if (c != '\n') b64 += c;
    auto blob = Botan::base64_decode(b64);
    WireReader in(blob);
    REQUIRE(as_text(in.raw(6)) == sshsig_magic);
    REQUIRE(in.u32() == 1);
    PublicKey key = PublicKey::from_blob(in.string());
    REQUIRE(in.text() == ns);
    in.string();
    REQUIRE(in.text() == "sha512");
    ByteView sig = in.string();
    if (signer) *signer = key;
    return key.verify(sshsig_signed_data(ns, message), sig);
}

const std::string no_pass;  // "" = no passphrase, as ssh-keygen -N ''

}  // namespace

TEST_CASE("authchain reads ssh-keygen's keys and fingerprints them as ssh-keygen -l" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    for (std::string type : {"ed25519", "ecdsa", "ecdsa384", "ecdsa521", "rsa"}) {
        for (std::string pass : {no_pass, std::string("pass phrase 1")}) {
            CAPTURE(type);
            CAPTURE(pass);
            const auto id = dir / ("id_" + type + (pass.empty() ? "" : "_enc"));
            const std::string pub = id.string() + ".pub";
            run_ok("ssh-keygen -q " + keygen_type_args(type) + " -N " + quote(pass) + " -C " +
                   quote("comment " + type) + " -f " + quote(id.string()));
            std::optional<std::string_view> p;
            if (!pass.empty()) p = pass;

            PrivateKey key = PrivateKey::load(id, p);
            CHECK(key.comment() == "comment " + type);
            const std::string pub_line = run_ok("cat " + quote(pub));
            CHECK(key.public_key() == parse_pub_line(pub_line));
            CHECK(key.public_key().to_line(key.comment()) == pub_line);

            CHECK(fingerprint_line(pub) == run_ok("ssh-keygen -l -f " + quote(pub)));
            CHECK(fingerprint_line(id) == run_ok("ssh-keygen -l -f " + quote(id.string())));
            std::filesystem::rename(pub, pub + ".away");
            CHECK(fingerprint_line(id) == run_ok("ssh-keygen -l -f " + quote(id.string())));
            std::filesystem::rename(pub + ".away", pub);

            if (!pass.empty()) {
                CHECK_THROWS_WITH_AS(PrivateKey::load(id), doctest::Contains("passphrase required"), FormatError);
                CHECK_THROWS_WITH_AS(PrivateKey::load(id, "pass phrase 2"), doctest::Contains("wrong passphrase"),
                                     FormatError);
            }
        }
    }
}

TEST_CASE("fingerprint_line agrees with ssh-keygen -l on authorized_keys-style files and odd .pub files" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    const auto id = dir / "id";
    run_ok("ssh-keygen -q -t ed25519 -N '' -C 'stored comment' -f " + quote(id.string()));
    const auto rsa = dir / "rsa";
    run_ok("ssh-keygen -q -t rsa -b 2048 -N '' -C r -f " + quote(rsa.string()));
    const std::string ed_key = first_two_fields(test::read_file(id.string() + ".pub"));
    const std::string rsa_key = first_two_fields(test::read_file(rsa.string() + ".pub"));

    const auto ak = dir / "authorized_keys";
    test::write_file(ak, "# header\n\n  " + ed_key + "  spaced   comment  \n" + "from=\"10.0.0.0/8,!10.1.2.3\",no-pty " +
                             rsa_key + " with options\n" + "command=\"echo \\\"a b\\\"\" " + ed_key + " quoted\n" +
                             "host.example,10.0.0.1 " + rsa_key + " known host\n" + "not a key at all\n" +
                             "restrict " + ed_key + "\n");
    CHECK(fingerprint_line(ak) == run_ok("ssh-keygen -l -f " + quote(ak.string())));

    // A .pub without comment: ssh-keygen shows the .pub file name.
    test::write_file(id.string() + ".pub", ed_key + "\n");
    CHECK(fingerprint_line(id) == run_ok("ssh-keygen -l -f " + quote(id.string())));
    CHECK(fingerprint_line(id.string() + ".pub") == run_ok("ssh-keygen -l -f " + quote(id.string() + ".pub")));
}

TEST_CASE("authchain reads keys ssh-keygen encrypts with other ciphers" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    for (std::string cipher : {"aes256-gcm@openssh.com", "aes128-gcm@openssh.com", "aes128-ctr", "aes256-cbc",
                               "chacha20-poly1305@openssh.com"}) {
        CAPTURE(cipher);
        const auto id = dir / ("id_" + std::to_string(std::hash<std::string>{}(cipher)));
        run_ok("ssh-keygen -q -t ed25519 -Z " + quote(cipher) + " -N 'cipher pass' -C c -f " + quote(id.string()));
        PrivateKey key = PrivateKey::load(id, "cipher pass");
        CHECK(key.public_key() == parse_pub_line(run_ok("cat " + quote(id.string() + ".pub"))));
        CHECK_THROWS_WITH_AS(PrivateKey::load(id, "cipher pasS"), doctest::Contains("wrong passphrase"), FormatError);
    }
}

TEST_CASE("authchain reads PKCS#8 keys written by ssh-keygen -m PKCS8" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    for (std::string type : {"ecdsa", "ecdsa384", "ecdsa521", "rsa"}) {
        for (std::string pass : {no_pass, std::string("pkcs8 pass")}) {
            CAPTURE(type);
            CAPTURE(pass);
            const auto id = dir / ("p8_" + type + (pass.empty() ? "" : "_enc"));
            run_ok("ssh-keygen -q " + keygen_type_args(type) + " -N '' -C c -f " + quote(id.string()));
            run_ok("ssh-keygen -q -p -m PKCS8 -P '' -N " + quote(pass) + " -f " + quote(id.string()));
            std::optional<std::string_view> p;
            if (!pass.empty()) p = pass;
            CHECK(PrivateKey::load(id, p).public_key() == parse_pub_line(run_ok("cat " + quote(id.string() + ".pub"))));
        }
    }
}

TEST_CASE("authchain reads legacy PEM keys written by ssh-keygen -m PEM, unencrypted only" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    for (std::string type : {"ecdsa", "ecdsa521", "rsa"}) {
        CAPTURE(type);
        const auto id = dir / ("pem_" + type);
        run_ok("ssh-keygen -q " + keygen_type_args(type) + " -N '' -C c -f " + quote(id.string()));
        run_ok("ssh-keygen -q -p -m PEM -P '' -N '' -f " + quote(id.string()));
        REQUIRE(test::read_file(id).find(type == "rsa" ? "BEGIN RSA PRIVATE KEY" : "BEGIN EC PRIVATE KEY") !=
                std::string::npos);
        const PublicKey expected = parse_pub_line(run_ok("cat " + quote(id.string() + ".pub")));
        CHECK(PrivateKey::load(id).public_key() == expected);
        std::filesystem::remove(id.string() + ".pub");
        CHECK(fingerprint_line(id) == run_ok("ssh-keygen -l -f " + quote(id.string())));

        run_ok("ssh-keygen -q -p -m PEM -P '' -N 'pem pass' -f " + quote(id.string()));
        CHECK_THROWS_WITH_AS(PrivateKey::load(id, "pem pass"), doctest::Contains("ssh-keygen -p"), FormatError);
    }
}

TEST_CASE("ssh-keygen reads the keys authchain writes" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    for (std::string type : {"ed25519", "ecdsa", "ecdsa384", "ecdsa521", "rsa"}) {
        for (std::string pass : {no_pass, std::string("authchain pass")}) {
            CAPTURE(type);
            CAPTURE(pass);
            const auto id = dir / ("ac_" + type + (pass.empty() ? "" : "_enc"));
            std::optional<std::string_view> p;
            if (!pass.empty()) p = pass;
            if (type.starts_with("ecdsa") && type.size() > 5)
                write_keypair(id, "written by authchain", p, "ecdsa", false, std::stoul(type.substr(5)));
            else
                write_keypair(id, "written by authchain", p, type);
            const std::string pub_line = run_ok("cat " + quote(id.string() + ".pub"));

            CHECK(run_ok("ssh-keygen -l -f " + quote(id.string())) == fingerprint_line(id));
            CHECK(run_ok("ssh-keygen -l -f " + quote(id.string() + ".pub")) == fingerprint_line(id.string() + ".pub"));
            const std::string derived = run_ok("ssh-keygen -y -P " + quote(pass) + " -f " + quote(id.string()));
            CHECK(first_two_fields(derived) == first_two_fields(pub_line));
            CHECK(derived == pub_line);  // ssh-keygen -y also prints the stored comment
            if (!pass.empty())
                CHECK(test::shell("ssh-keygen -y -P 'not it' -f " + quote(id.string())) != 0);
        }
    }
}

TEST_CASE("signatures verify both ways (ssh-keygen -Y sign / -Y verify)" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    const std::string message = "message for SSHSIG\n";
    const auto msg = dir / "msg";
    test::write_file(msg, message);
    for (std::string type : {"ed25519", "ecdsa", "ecdsa384", "ecdsa521", "rsa"}) {
        CAPTURE(type);
        const auto id = dir / ("sig_" + type);
        run_ok("ssh-keygen -q " + keygen_type_args(type) + " -N '' -C signer -f " + quote(id.string()));
        PrivateKey key = PrivateKey::load(id);

        // authchain signs, ssh-keygen verifies.
        const auto sig = dir / ("ac_" + type + ".sig");
        test::write_file(sig, sshsig_sign(key, "file", as_bytes(message)));
        const auto signers = dir / "allowed_signers";
        test::write_file(signers, "signer@example " + key.public_key().to_line() + "\n");
        const std::string verify = "ssh-keygen -Y verify -f " + quote(signers.string()) +
                                   " -I signer@example -n file -s " + quote(sig.string()) + " < ";
        CHECK(run_ok(verify + quote(msg.string())).find("Good \"file\" signature") != std::string::npos);
        const auto other = dir / "other";
        test::write_file(other, message + "x");
        CHECK(test::shell(verify + quote(other.string())) != 0);

        // ssh-keygen signs, authchain verifies.
        run_ok("ssh-keygen -Y sign -f " + quote(id.string()) + " -n file " + quote(msg.string()));
        const std::string armored = test::read_file(msg.string() + ".sig");
        PublicKey signer = key.public_key();
        CHECK(sshsig_verify(armored, "file", as_bytes(message), &signer));
        CHECK(signer == key.public_key());
        CHECK_FALSE(sshsig_verify(armored, "file", as_bytes(message + "x"), nullptr));
        std::filesystem::remove(msg.string() + ".sig");
    }
}
