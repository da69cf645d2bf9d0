// OpenSSH key formats: wire bounds, blobs, signatures, private key files, file modes.
#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/keyfile.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>
#include "tests/auth/public_key_fixture.hpp"
#include "tests/support/run.hpp"

#include <botan/base64.h>
#include <botan/bigint.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <doctest/doctest.h>

#include <sys/stat.h>

using namespace authchain;
using namespace authchain::openssh;

namespace {

// Made by `ssh-keygen -t ed25519 -N 'correct horse' -C kat@authchain` (aes256-ctr, bcrypt 16 rounds).
constexpr std::string_view kat_ed25519_encrypted =
    "-----BEGIN OPENSSH PRIVATE KEY-----\n"
    "b3BlbnNzaC1rZXktdjEAAAAACmFlczI1Ni1jdHIAAAAGYmNyeXB0AAAAGAAAABDXHdYG03\n"
    "Ctluyc0T06UdLJAAAAEAAAAAEAAAAzAAAAC3NzaC1lZDI1NTE5AAAAIGAD7IO8qk6MaelL\n"
    "5HKj00O4j5KQH+Pm1EH/T7TeVVD7AAAAkIHE8gHqJRzFsCq0HmPIRHxmNbcDxyewMMrKdm\n"
    "h8r8Yzice7P/dCwgtp0wLM0RX/D/TeXqJ9wZRkCyGtgbNVyi8kPWu9zSGFyIS86rfghcak\n"
    "eK5QUdglNRbTis4sxjGOOnsM29PfXAfpjq9FT4t1DfT4mBC7IsQCKDnyXqltDALobu6KY7\n"
    "X906PLRitDstNPCg==\n"
    "-----END OPENSSH PRIVATE KEY-----\n";
constexpr std::string_view kat_ed25519_pub = "AAAAC3NzaC1lZDI1NTE5AAAAIGAD7IO8qk6MaelL5HKj00O4j5KQH+Pm1EH/T7TeVVD7";
constexpr std::string_view kat_ed25519_fp = "SHA256:FLBroZBpTZJKDLXctpDcXtfABqhMWm7vWJcgLq2EHgc";
constexpr std::string_view kat_rsa_pub =
    "AAAAB3NzaC1yc2EAAAADAQABAAABAQD3Q+RJHGjMlfWPaRhgq8tcQ9h4mjqq9NuE5NqIzJMU00EVEY7oxgUTUBQpGgTsHWqDTSf4Fdap2S0W5"
    "y3Nf+XMRArL2vQ5qzR7uppEweY3YSRhBBaftsujD9HVyu4vNbhwJ8uBLd5qi5GHMcrp6Yyx9+aBSI8kIPTr/IX665eWUEX/YosDwOgXkCmxI"
    "p3ZpOlKsObGUB9DVNzMadB/YKRFSXzgDHVZ+NaqQUWRuiC8Cex5UGWjZ64j3VmA41W3yokGabtFEsQKDyhAUOB3BliKPxwaH5ubg1w29Sg9WR"
    "z/AWVEBrQv5Zw6xw8YlCI7DhNlnYlNpzcNpfEdH2e+llQn";
constexpr std::string_view kat_rsa_fp = "SHA256:bzp/BLGKZd3vEJBa6YCe1ZwN+4cGCkzo/Buop+TXav4";
constexpr std::string_view kat_ecdsa_pub =
    "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBHUzajhF2c/4Lf8Uh0KJMGDyRfPCjxpyFJdn0jWnrKML+f/CFHFrNDSuDf"
    "RKeXqBwYcfqeufFzzMRxvWkDT/PJc=";
constexpr std::string_view kat_ecdsa_fp = "SHA256:ejb6Q2QaOgnTxbkCUyj8pw+uBvdbapMvAciLQq9//Fo";

PrivateKey generate(const std::string& type) {
    if (type == "ed25519") return PrivateKey::generate_ed25519();
    if (type == "ecdsa") return PrivateKey::generate_ecdsa_p256();
    return PrivateKey::generate_rsa(2048);
}

// A signature blob (string algorithm, string sig) with Botan's signature under `padding`.
Bytes botan_signature_blob(const PrivateKey& key, std::string_view algorithm, const std::string& padding,
                           ByteView message) {
    auto& rng = Botan::system_rng();
    Botan::PK_Signer signer(key.botan_key(), rng, padding);
    auto sig = signer.sign_message(message.data(), message.size(), rng);
    WireWriter w;
    w.string(algorithm).string(ByteView(sig));
    return w.bytes();
}

std::string error_of(auto&& f) {
    try {
        f();
    } catch (const std::exception& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("wire reader refuses lengths beyond its input") {
    const Bytes huge_string = {0xff, 0xff, 0xff, 0xff, 'a'};
    WireReader r1(huge_string);
    CHECK_THROWS_AS(r1.string(), FormatError);

    const Bytes three = {0, 0, 1};
    WireReader r2(three);
    CHECK_THROWS_AS(r2.u32(), FormatError);

    const Bytes ok = {0, 0, 0, 2, 'h', 'i', 0, 0, 0, 1, 0x80};
    WireReader r3(ok);
    CHECK(r3.text() == "hi");
    CHECK_THROWS_AS(r3.mpint(8), FormatError);  // negative

    const Bytes big = {0, 0, 0, 3, 0x00, 0x7f, 0x01};
    WireReader r4(big);
    CHECK_THROWS_AS(r4.mpint(1), FormatError);  // 2-byte magnitude, bound 1
    WireReader r5(big);
    CHECK(r5.mpint(2).size() == 2);  // leading zero stripped
    CHECK(r5.empty());

    const Bytes trailing = {0, 0, 0, 0, 9};
    WireReader r6(trailing);
    CHECK(r6.string().empty());
    CHECK_THROWS_AS(r6.expect_end("test"), FormatError);
}

TEST_CASE("wire writer encodes mpints as RFC 4251") {
    WireWriter w;
    const Bytes high = {0x00, 0x80, 0x01};
    w.mpint(Bytes{}).mpint(high);
    CHECK(w.bytes() == Bytes{0, 0, 0, 0, 0, 0, 0, 3, 0x00, 0x80, 0x01});
}

TEST_CASE("fingerprints, sizes and labels match ssh-keygen -l") {
    auto ed = PublicKey::from_base64("ssh-ed25519", kat_ed25519_pub);
    CHECK(ed.fingerprint() == kat_ed25519_fp);
    CHECK(ed.bits() == 256);
    CHECK(ed.type_label() == "ED25519");
    auto rsa = PublicKey::from_base64("ssh-rsa", kat_rsa_pub);
    CHECK(rsa.fingerprint() == kat_rsa_fp);
    CHECK(rsa.bits() == 2048);
    CHECK(rsa.type_label() == "RSA");
    auto ec = PublicKey::from_base64("ecdsa-sha2-nistp256", kat_ecdsa_pub);
    CHECK(ec.fingerprint() == kat_ecdsa_fp);
    CHECK(ec.bits() == 256);
    CHECK(ec.type_label() == "ECDSA");
    CHECK(ec.to_line("c d") == "ecdsa-sha2-nistp256 " + std::string(kat_ecdsa_pub) + " c d");
    CHECK(ec.to_line() == "ecdsa-sha2-nistp256 " + std::string(kat_ecdsa_pub));
    CHECK(PublicKey::from_blob(ed.blob()) == ed);
    CHECK_FALSE(ed == rsa);
}

TEST_CASE("malformed public keys are refused") {
    auto ed = PublicKey::from_base64("ssh-ed25519", kat_ed25519_pub);
    const Bytes& blob = ed.blob();
    for (std::size_t n = 0; n < blob.size(); ++n)
        CHECK_THROWS_AS(PublicKey::from_blob(ByteView(blob).first(n)), FormatError);
    Bytes trailing = blob;
    trailing.push_back(0);
    CHECK_THROWS_AS(PublicKey::from_blob(trailing), FormatError);
    CHECK_THROWS_AS(PublicKey::from_base64("ssh-rsa", kat_ed25519_pub), FormatError);  // type mismatch
    CHECK_THROWS_AS(PublicKey::from_base64("ssh-ed25519", "not base64!"), FormatError);

    WireWriter dss;
    dss.string("ssh-dss").string("x");
    CHECK_THROWS_AS(PublicKey::from_blob(dss.bytes()), FormatError);

    // A non-canonical mpint (extra leading zero) in an RSA key.
    auto rsa = PublicKey::from_base64("ssh-rsa", kat_rsa_pub);
    WireReader in(rsa.blob());
    in.text();
    ByteView e = in.mpint(8);
    ByteView n = in.string();
    WireWriter padded;
    padded.string("ssh-rsa").string(e);
    Bytes n2 = {0};
    n2.insert(n2.end(), n.begin(), n.end());
    padded.string(n2);
    CHECK_THROWS_AS(PublicKey::from_blob(padded.bytes()), FormatError);

    // An ECDSA point that is not on the curve.
    auto ec = PublicKey::from_base64("ecdsa-sha2-nistp256", kat_ecdsa_pub);
    Bytes bad = ec.blob();
    REQUIRE(bad.size() == 104);  // string type, string curve, string point (65)
    bad[103] ^= 1;
    CHECK_THROWS_AS(PublicKey::from_blob(bad), FormatError);
}

namespace {

using authchain::pk_test::rsa_blob;

bool rsa_refused(const Botan::BigInt& n, const Botan::BigInt& e, const std::string& why) {
    try {
        PublicKey::from_blob(rsa_blob(n, e));
        return false;
    } catch (const FormatError& error) {
        return std::string(error.what()).find(why) != std::string::npos;
    }
}

}  // namespace

TEST_CASE("RSA public exponents are bounded: odd, 3 to 2^32-1 (issue 14)") {
    auto kat = PublicKey::from_base64("ssh-rsa", kat_rsa_pub);
    WireReader in(kat.blob());
    in.text();
    ByteView e_bytes = in.mpint(8);
    Botan::BigInt e(e_bytes.data(), e_bytes.size());
    ByteView n_bytes = in.mpint(2048);
    Botan::BigInt n(n_bytes.data(), n_bytes.size());
    REQUIRE(e == 65537);
    CHECK(PublicKey::from_blob(rsa_blob(n, 3)).bits() == 2048);
    CHECK(PublicKey::from_blob(rsa_blob(n, Botan::BigInt(0xffffffffu))).bits() == 2048);  // 2^32 - 1

    const std::string bound = "exponent is not odd and in 3..2^32-1";
    CHECK(rsa_refused(n, Botan::BigInt(0xffffffffu) + 2, bound));           // 2^32 + 1
    CHECK(rsa_refused(n, Botan::BigInt::power_of_2(64) + 1, bound));
    CHECK(rsa_refused(n, n - 2, bound));                                    // the penetration test's key
    CHECK(rsa_refused(n, 65536, bound));
    CHECK(rsa_refused(n, 1, bound));

    // The same at the largest modulus accepted: refused as it is parsed, before any verify.
    Botan::BigInt big(Botan::system_rng(), 16384);
    big.set_bit(0);
    CHECK(rsa_refused(big, big - 2, bound));
    Botan::BigInt too_big(Botan::system_rng(), 16392);
    too_big.set_bit(0);
    CHECK(rsa_refused(too_big, 65537, ""));  // over the mpint bound already
}

TEST_CASE("sign and verify for every key type") {
    for (std::string type : {"ed25519", "ecdsa", "rsa"}) {
        CAPTURE(type);
        PrivateKey key = generate(type);
        PrivateKey other = generate(type);
        const Bytes message = {'h', 'e', 'l', 'l', 'o'};
        const Bytes sig = key.sign(message);
        CHECK(key.public_key().verify(message, sig));
        CHECK_FALSE(key.public_key().verify(as_bytes("hellO"), sig));     // another message
        CHECK_FALSE(other.public_key().verify(message, sig));             // another key
        for (std::size_t n = 0; n < sig.size(); ++n)                       // truncated blobs
            CHECK_FALSE(key.public_key().verify(message, ByteView(sig).first(n)));
        Bytes trailing = sig;
        trailing.push_back(0);
        CHECK_FALSE(key.public_key().verify(message, trailing));
        Bytes flipped = sig;
        flipped[flipped.size() - 3] ^= 0x40;
        CHECK_FALSE(key.public_key().verify(message, flipped));
    }
}

TEST_CASE("RSA: SHA-2 signatures only, never ssh-rsa (SHA-1)") {
    PrivateKey key = PrivateKey::generate_rsa(2048);
    const Bytes message = {1, 2, 3};
    const Bytes sig = key.sign(message);
    WireReader r(sig);
    CHECK(r.text() == "rsa-sha2-512");
    CHECK(key.public_key().verify(message, botan_signature_blob(key, "rsa-sha2-256", "EMSA3(SHA-256)", message)));
    CHECK_FALSE(key.public_key().verify(message, botan_signature_blob(key, "ssh-rsa", "EMSA3(SHA-1)", message)));
    // A SHA-1 signature relabelled as SHA-2, and a SHA-256 one labelled SHA-512.
    CHECK_FALSE(key.public_key().verify(message, botan_signature_blob(key, "rsa-sha2-512", "EMSA3(SHA-1)", message)));
    CHECK_FALSE(key.public_key().verify(message, botan_signature_blob(key, "rsa-sha2-512", "EMSA3(SHA-256)", message)));
}

TEST_CASE("a signature algorithm name of another key type is refused") {
    PrivateKey ed = PrivateKey::generate_ed25519();
    const Bytes message = {7};
    Bytes sig = ed.sign(message);
    WireReader r(sig);
    r.text();
    ByteView raw = r.string();
    WireWriter relabelled;
    relabelled.string("ecdsa-sha2-nistp256").string(raw);
    CHECK_FALSE(ed.public_key().verify(message, relabelled.bytes()));
}

TEST_CASE("private keys round trip through openssh-key-v1") {
    for (std::string type : {"ed25519", "ecdsa", "rsa"}) {
        CAPTURE(type);
        PrivateKey key = generate(type);
        for (std::optional<std::string_view> pass : {std::optional<std::string_view>{}, std::optional<std::string_view>{"s3cret pass"}}) {
            std::string text = key.to_openssh("user@host", pass);
            CHECK(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
            CHECK(text.find(pass ? "aes256-ctr" : "none") == std::string::npos);  // inside base64
            PrivateKey back = PrivateKey::parse(text, pass);
            CHECK(back.public_key() == key.public_key());
            CHECK(back.comment() == "user@host");
            const Bytes m = {9, 9};
            CHECK(key.public_key().verify(m, back.sign(m)));
        }
    }
}

TEST_CASE("encrypted keys: passphrase required, wrong passphrase, round bound") {
    auto parsed = PrivateKey::parse(kat_ed25519_encrypted, "correct horse");
    CHECK(parsed.public_key() == PublicKey::from_base64("ssh-ed25519", kat_ed25519_pub));
    CHECK(parsed.comment() == "kat@authchain");
    CHECK(error_of([] { PrivateKey::parse(kat_ed25519_encrypted); }) == "passphrase required");
    CHECK(error_of([] { PrivateKey::parse(kat_ed25519_encrypted, ""); }) == "passphrase required");
    CHECK(error_of([] { PrivateKey::parse(kat_ed25519_encrypted, "Correct horse"); }) == "wrong passphrase");
    CHECK(error_of([] { PrivateKey::parse(kat_ed25519_encrypted, "correct horse", 8); }).find("rounds") !=
          std::string::npos);
}

TEST_CASE("corrupt private key files are refused") {
    PrivateKey key = PrivateKey::generate_ed25519();
    std::string text = key.to_openssh("c");
    CHECK_THROWS_AS(PrivateKey::parse(""), FormatError);
    CHECK_THROWS_AS(PrivateKey::parse("-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n"), FormatError);
    // Every truncation of the decoded file fails cleanly.
    std::string body;
    for (char c : text.substr(36, text.size() - 36 - 35))
        if (c != '\n') body.push_back(c);
    auto bytes = Botan::base64_decode(body);
    for (std::size_t n = 0; n < bytes.size(); n += 7) {
        std::string t = "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
                        Botan::base64_encode(bytes.data(), n) + "\n-----END OPENSSH PRIVATE KEY-----\n";
        CHECK_THROWS_AS(PrivateKey::parse(t), FormatError);
    }
    // A flipped byte in the private section (the seed) no longer matches the public key.
    auto flipped = bytes;
    flipped[flipped.size() - 40] ^= 1;
    std::string t = "-----BEGIN OPENSSH PRIVATE KEY-----\n" + Botan::base64_encode(flipped) +
                    "\n-----END OPENSSH PRIVATE KEY-----\n";
    CHECK_THROWS_AS(PrivateKey::parse(t), FormatError);
}

TEST_CASE("PKCS#8 PEM keys are read through Botan") {
    PrivateKey key = PrivateKey::generate_ecdsa_p256();
    auto& rng = Botan::system_rng();
    std::string plain = Botan::PKCS8::PEM_encode(key.botan_key());
    CHECK(PrivateKey::parse(plain).public_key() == key.public_key());
    std::string enc = Botan::PKCS8::PEM_encode_encrypted_pbkdf_iter(key.botan_key(), rng, "pw", 2000);
    CHECK(PrivateKey::parse(enc, "pw").public_key() == key.public_key());
    CHECK(error_of([&] { PrivateKey::parse(enc); }) == "passphrase required");
    CHECK(error_of([&] { PrivateKey::parse(enc, "nope"); }).starts_with("wrong passphrase"));
}

TEST_CASE("legacy PEM: encrypted or unknown forms are refused with a clear message") {
    const std::string enc =
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n"
        "AAAA\n-----END RSA PRIVATE KEY-----\n";
    CHECK(error_of([&] { PrivateKey::parse(enc, "pw"); }).find("ssh-keygen -p") != std::string::npos);
    CHECK_THROWS_AS(PrivateKey::parse("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
                    FormatError);
    CHECK_THROWS_AS(PrivateKey::parse("-----BEGIN DSA PRIVATE KEY-----\nAAAA\n-----END DSA PRIVATE KEY-----\n"),
                    FormatError);
    // A PKCS#8 key of an unsupported algorithm.
    Botan::Ed25519_PrivateKey ed(Botan::system_rng());
    CHECK_NOTHROW(PrivateKey::parse(Botan::PKCS8::PEM_encode(ed)));
    Botan::ECDSA_PrivateKey p384(Botan::system_rng(), Botan::EC_Group("secp384r1"));
    CHECK(PrivateKey::parse(Botan::PKCS8::PEM_encode(p384)).public_key().type() == "ecdsa-sha2-nistp384");
    Botan::ECDSA_PrivateKey k1(Botan::system_rng(), Botan::EC_Group("secp256k1"));
    CHECK(error_of([&] { PrivateKey::parse(Botan::PKCS8::PEM_encode(k1)); }).find("nistp384") != std::string::npos);
}

TEST_CASE("file modes: private keys must be private, nothing writable by others") {
    test::TempDir dir;
    PrivateKey key = PrivateKey::generate_ed25519();
    auto id = dir / "id";
    test::write_file(id, key.to_openssh("c"), 0644);
    std::string err = error_of([&] { PrivateKey::load(id); });
    CHECK(err.find("Permissions 0644 for '" + id.string() + "' are too open") != std::string::npos);
    CHECK(err.find("chmod 600") != std::string::npos);
    ::chmod(id.c_str(), 0640);
    CHECK_THROWS(check_file_mode(id, true));
    ::chmod(id.c_str(), 0600);
    CHECK(PrivateKey::load(id).comment() == "c");

    auto pub = dir / "id.pub";
    test::write_file(pub, key.public_key().to_line("c") + "\n", 0666);
    CHECK(error_of([&] { check_file_mode(pub, false); }).find("Permissions 0666") != std::string::npos);
    ::chmod(pub.c_str(), 0620);
    CHECK_THROWS(check_file_mode(pub, false));
    ::chmod(pub.c_str(), 0644);
    CHECK_NOTHROW(check_file_mode(pub, false));
    CHECK_THROWS(check_file_mode(pub, true));  // readable by others: fine for a public file only

    ::chmod(dir.path().c_str(), 0770);
    err = error_of([&] { check_file_mode(pub, false); });
    CHECK(err.find("directory '" + dir.path().string() + "'") != std::string::npos);
    CHECK_THROWS(PrivateKey::load(id));
    ::chmod(dir.path().c_str(), 0700);
    CHECK_NOTHROW(PrivateKey::load(id));

    CHECK_THROWS(check_file_mode(dir / "missing", false));
    CHECK_THROWS(check_file_mode(dir.path(), false));  // not a regular file
}

TEST_CASE("write_keypair writes both files atomically with the right modes") {
    test::TempDir dir;
    auto id = dir / "id_test";
    write_keypair(id, "me@here", "pw", "ecdsa");
    struct stat st {};
    REQUIRE(::stat(id.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    REQUIRE(::stat((id.string() + ".pub").c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0644);
    auto key = PrivateKey::load(id, "pw");
    CHECK(key.comment() == "me@here");
    CHECK(test::read_file(id.string() + ".pub") == key.public_key().to_line("me@here") + "\n");
    CHECK(fingerprint_line(id.string() + ".pub") == "256 " + key.public_key().fingerprint() + " me@here (ECDSA)");
    CHECK(fingerprint_line(id) == "256 " + key.public_key().fingerprint() + " me@here (ECDSA)");

    CHECK(error_of([&] { write_keypair(id, "x", {}); }).find("already exists") != std::string::npos);
    CHECK(PrivateKey::load(id, "pw").public_key() == key.public_key());  // untouched
    write_keypair(id, "x", {}, "ed25519", true);
    CHECK(PrivateKey::load(id).public_key().type() == "ssh-ed25519");
    CHECK_THROWS_AS(write_keypair(dir / "other", "x", {}, "dsa"), std::invalid_argument);
    CHECK_THROWS_AS(write_keypair(dir / "other2", "a\nb", {}), std::invalid_argument);
    // No temporary files left behind.
    int entries = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++entries;
    CHECK(entries == 2);
}

TEST_CASE("fingerprint_line reads authorized_keys-style files as ssh-keygen -l") {
    test::TempDir dir;
    auto ak = dir / "authorized_keys";
    const std::string ed = "ssh-ed25519 " + std::string(kat_ed25519_pub);
    test::write_file(ak, "# comment\n\n" + ed + " one two  \n" + "from=\"10.0.0.1,a b\" " + ed +
                             " opt\n" + "restrict " + ed + "\n" + "garbage line\n" + "host1,host2 " + ed + " kh\n");
    const std::string fp = "256 " + std::string(kat_ed25519_fp);
    CHECK(fingerprint_line(ak) == fp + " one two   (ED25519)\n" + fp + " opt (ED25519)\n" + fp +
                                      " restrict (ED25519)\n" + fp + " kh (ED25519)");
    auto empty = dir / "empty";
    test::write_file(empty, "# nothing\n");
    CHECK(error_of([&] { fingerprint_line(empty); }).find("is not a public key file") != std::string::npos);
    CHECK_THROWS(fingerprint_line(dir / "missing"));
}

TEST_CASE("fingerprint_line of a private key without .pub") {
    test::TempDir dir;
    auto enc = dir / "enc";
    test::write_file(enc, std::string(kat_ed25519_encrypted), 0600);
    CHECK(fingerprint_line(enc) == "256 " + std::string(kat_ed25519_fp) + " no comment (ED25519)");
    auto plain = dir / "plain";
    PrivateKey key = PrivateKey::generate_ed25519();
    test::write_file(plain, key.to_openssh("stored comment"), 0600);
    CHECK(fingerprint_line(plain) == "256 " + key.public_key().fingerprint() + " stored comment (ED25519)");
    auto pem = dir / "pem";
    test::write_file(pem, Botan::PKCS8::PEM_encode_encrypted_pbkdf_iter(key.botan_key(), Botan::system_rng(), "pw", 2000), 0600);
    CHECK_THROWS(fingerprint_line(pem));
    CHECK(fingerprint_line(pem, "pw") == "256 " + key.public_key().fingerprint() + " no comment (ED25519)");
}
