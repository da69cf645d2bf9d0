// OpenSSH certificates: the parser on hand-built blobs, the checks a gate
// and a client apply, and the signer.
#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/certificate_check.hpp>
#include <authchain/auth/openssh/certificate_sign.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using namespace authchain;
using namespace authchain::openssh;

namespace {

constexpr std::uint64_t now = 1'800'000'000;
const auto peer = asio::ip::make_address("192.0.2.7");

// A certificate blob written field by field (PROTOCOL.certkeys), signed by `ca`.
struct Blob {
    std::string type_suffix = std::string(certificate_suffix);
    std::uint32_t cert_type = 1;
    std::string key_id = "id-1";
    std::vector<std::string> principals{"alice"};
    std::uint64_t after = now - 60, before = now + 3600;
    std::vector<std::pair<std::string, std::string>> critical;  // name, string value
    std::vector<std::string> extensions{"permit-pty"};
    std::optional<Bytes> ca_blob;  // default: ca's public blob
    bool corrupt_signature = false;

    Bytes build(const PublicKey& key, const PrivateKey& ca) const {
        WireReader plain(key.blob());
        plain.string();
        WireWriter principal_list, options, exts;
        for (const auto& p : principals) principal_list.string(p);
        for (const auto& [name, value] : critical) {
            WireWriter data;
            data.string(value);
            options.string(name).string(data.data());
        }
        for (const auto& e : extensions) exts.string(e).string(ByteView{});
        WireWriter out;
        out.string(key.type() + type_suffix)
            .string(std::string(32, 'n'))
            .raw(plain.raw(plain.remaining()))
            .u64(42)
            .u32(cert_type)
            .string(key_id)
            .string(principal_list.data())
            .u64(after)
            .u64(before)
            .string(options.data())
            .string(exts.data())
            .string(ByteView{})
            .string(ca_blob ? ByteView(*ca_blob) : ByteView(ca.public_key().blob()));
        Bytes sig = ca.sign(out.bytes());
        if (corrupt_signature) sig.back() ^= 1;
        out.string(sig);
        return out.bytes();
    }
};

PrivateKey make(const std::string& type) {
    if (type == "ecdsa256") return PrivateKey::generate_ecdsa(256);
    if (type == "ecdsa384") return PrivateKey::generate_ecdsa(384);
    if (type == "ecdsa521") return PrivateKey::generate_ecdsa(521);
    if (type == "rsa") return PrivateKey::generate_rsa(2048);
    return PrivateKey::generate_ed25519();
}

std::string refusal(const Certificate& c, std::string_view user = "alice",
                    std::optional<std::vector<std::string>> line = std::nullopt,
                    const asio::ip::address& from = peer, std::uint64_t t = now) {
    auto why = user_certificate_refusal(c, user, line, from, t);
    return why ? *why : std::string();
}

}  // namespace

TEST_CASE("certificates of every supported key type parse, signed by every CA type") {
    for (std::string key_type : {"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa"}) {
        for (std::string ca_type : {"ed25519", "ecdsa384", "rsa"}) {
            CAPTURE(key_type);
            CAPTURE(ca_type);
            PrivateKey key = make(key_type), ca = make(ca_type);
            Blob b;
            b.critical = {{"source-address", "192.0.2.0/24"}};
            Certificate c = Certificate::from_blob(b.build(key.public_key(), ca));
            CHECK(c.type() == key.public_key().type() + "-cert-v01@openssh.com");
            CHECK(c.key() == key.public_key());
            CHECK(c.signature_key() == ca.public_key());
            CHECK(c.serial() == 42);
            CHECK(c.certificate_type() == CertificateType::user);
            CHECK(c.key_id() == "id-1");
            CHECK(c.principals() == std::vector<std::string>{"alice"});
            CHECK(c.valid_after() == now - 60);
            CHECK(c.valid_before() == now + 3600);
            REQUIRE(c.critical_options().size() == 1);
            CHECK(option_string(c.critical_options()[0]) == "192.0.2.0/24");
            CHECK(c.extensions().size() == 1);
            CHECK(c.verify_signature());
            CHECK(Certificate::from_line(c.to_line("comment")).blob() == c.blob());
        }
    }
}

TEST_CASE("the signature covers every byte before it") {
    PrivateKey key = make("ed25519"), ca = make("ed25519");
    Bytes blob = Blob{}.build(key.public_key(), ca);
    CHECK(Certificate::from_blob(blob).verify_signature());
    Blob bad;
    bad.corrupt_signature = true;
    CHECK_FALSE(Certificate::from_blob(bad.build(key.public_key(), ca)).verify_signature());
    // Flip one byte of the key id (offset found by search): still parses, no longer verifies.
    auto at = std::search(blob.begin(), blob.end(), std::begin("id-1"), std::end("id-1") - 1);
    REQUIRE(at != blob.end());
    *at = 'X';
    CHECK_FALSE(Certificate::from_blob(blob).verify_signature());
    // Another CA's key in the signature-key field: the signature does not verify with it.
    Blob other;
    other.ca_blob = make("ed25519").public_key().blob();
    CHECK_FALSE(Certificate::from_blob(other.build(key.public_key(), ca)).verify_signature());
}

TEST_CASE("malformed certificates are refused by the parser") {
    PrivateKey key = make("ed25519"), ca = make("ed25519");
    const Bytes good = Blob{}.build(key.public_key(), ca);
    SUBCASE("every truncation") {
        for (std::size_t n = 0; n < good.size(); ++n)
            CHECK_THROWS_AS(Certificate::from_blob(ByteView(good).first(n)), FormatError);
    }
    SUBCASE("trailing bytes") {
        Bytes longer = good;
        longer.push_back(0);
        CHECK_THROWS_AS(Certificate::from_blob(longer), FormatError);
    }
    SUBCASE("a plain key type, or an unsupported certificate type") {
        CHECK_THROWS_AS(Certificate::from_blob(key.public_key().blob()), FormatError);
        WireWriter dss;
        dss.string("ssh-dss-cert-v01@openssh.com").string("nonce");
        CHECK_THROWS_WITH(Certificate::from_blob(dss.bytes()), doctest::Contains("not supported"));
    }
    SUBCASE("a certificate type that is neither user nor host") {
        Blob b;
        b.cert_type = 3;
        CHECK_THROWS_AS(Certificate::from_blob(b.build(key.public_key(), ca)), FormatError);
    }
    SUBCASE("a CA key that is itself a certificate") {
        Blob b;
        b.ca_blob = good;
        CHECK_THROWS_WITH(Certificate::from_blob(b.build(key.public_key(), ca)), doctest::Contains("itself a certificate"));
    }
    SUBCASE("a repeated critical option") {
        Blob b;
        b.critical = {{"source-address", "10.0.0.0/8"}, {"source-address", "0.0.0.0/0"}};
        CHECK_THROWS_WITH(Certificate::from_blob(b.build(key.public_key(), ca)), doctest::Contains("repeats"));
    }
    SUBCASE("too many principals, a key id too long") {
        Blob many;
        many.principals.assign(max_certificate_principals + 1, "p");
        CHECK_THROWS_AS(Certificate::from_blob(many.build(key.public_key(), ca)), FormatError);
        Blob long_id;
        long_id.key_id.assign(max_certificate_text + 1, 'i');
        CHECK_THROWS_AS(Certificate::from_blob(long_id.build(key.public_key(), ca)), FormatError);
    }
    SUBCASE("a blob over the size bound, before anything is read") {
        Bytes huge(max_certificate_blob + 1, 0);
        CHECK_THROWS_WITH(Certificate::from_blob(huge), doctest::Contains("too large"));
    }
    SUBCASE("from_base64: type must match") {
        Certificate c = Certificate::from_blob(good);
        std::string line = c.to_line();
        CHECK_THROWS_AS(Certificate::from_base64("ssh-rsa-cert-v01@openssh.com", line.substr(line.find(' ') + 1)),
                        FormatError);
    }
}

TEST_CASE("user certificates: every refusal a gate applies") {
    PrivateKey key = make("ed25519"), ca = make("ed25519");
    auto cert = [&](auto edit) {
        Blob b;
        edit(b);
        return Certificate::from_blob(b.build(key.public_key(), ca));
    };
    auto plain = cert([](Blob&) {});
    CHECK(refusal(plain).empty());
    CHECK(refusal(cert([](Blob& b) { b.cert_type = 2; })).find("not a user certificate") != std::string::npos);
    CHECK(refusal(plain, "alice", std::nullopt, peer, now - 61).find("not yet valid") != std::string::npos);
    CHECK(refusal(plain, "alice", std::nullopt, peer, now + 3600).find("expired") != std::string::npos);
    CHECK(refusal(plain, "alice", std::nullopt, peer, now + 3599).empty());
    CHECK(refusal(cert([](Blob& b) { b.principals.clear(); })).find("no principals") != std::string::npos);
    CHECK(refusal(plain, "bob").find("\"bob\" is not among") != std::string::npos);
    // principals="..." on the line: one of its names must be a certificate principal; the user is not checked.
    CHECK(refusal(plain, "bob", std::vector<std::string>{"x", "alice"}).empty());
    CHECK(refusal(plain, "alice", std::vector<std::string>{"x", "y"}).find("principals=") != std::string::npos);

    auto sourced = cert([](Blob& b) { b.critical = {{"source-address", "10.0.0.0/8,192.0.2.0/28"}}; });
    CHECK(refusal(sourced).empty());
    CHECK(refusal(sourced, "alice", std::nullopt, asio::ip::make_address("192.0.2.17"))
              .find("does not contain 192.0.2.17") != std::string::npos);
    CHECK(refusal(sourced, "alice", std::nullopt, asio::ip::make_address("::ffff:10.1.2.3")).empty());
    auto bad_source = cert([](Blob& b) { b.critical = {{"source-address", "10.0.0.0/99"}}; });
    CHECK(refusal(bad_source).find("malformed") != std::string::npos);

    CHECK(refusal(cert([](Blob& b) { b.critical = {{"force-command", "/bin/true"}}; }))
              .find("force-command") != std::string::npos);
    CHECK(refusal(cert([](Blob& b) { b.critical = {{"verify-required", ""}}; })).find("verify-required") !=
          std::string::npos);
    CHECK(refusal(cert([](Blob& b) { b.critical = {{"no-such-option@example.com", ""}}; }))
              .find("unknown critical option") != std::string::npos);
    // Unknown extensions are ignored, as sshd does.
    CHECK(refusal(cert([](Blob& b) { b.extensions = {"whatever@example.com"}; })).empty());
}

TEST_CASE("host certificates: type, validity, host name among the principals") {
    PrivateKey key = make("ecdsa384"), ca = make("rsa");
    Blob b;
    b.cert_type = 2;
    b.principals = {"gate.example", "10.0.0.1"};
    Certificate host = Certificate::from_blob(b.build(key.public_key(), ca));
    CHECK_FALSE(host_certificate_refusal(host, "gate.example", now));
    CHECK_FALSE(host_certificate_refusal(host, "GATE.example", now));
    CHECK(host_certificate_refusal(host, "other.example", now)->find("not among") != std::string::npos);
    CHECK(host_certificate_refusal(host, "gate.example", now + 3600)->find("expired") != std::string::npos);
    Blob u;
    Certificate user = Certificate::from_blob(u.build(key.public_key(), ca));
    CHECK(host_certificate_refusal(user, "alice", now)->find("not a host certificate") != std::string::npos);
    b.principals.clear();
    CHECK(host_certificate_refusal(Certificate::from_blob(b.build(key.public_key(), ca)), "gate.example", now));
}

TEST_CASE("sign_certificate writes what the parser reads, sorted options, default extensions") {
    PrivateKey key = make("ed25519");
    for (std::string ca_type : {"ed25519", "ecdsa521", "rsa"}) {
        CAPTURE(ca_type);
        PrivateKey ca = make(ca_type);
        CertificateRequest r = certificate_request(CertificateType::user, "kid", {"alice", "bob"});
        r.serial = 7;
        r.critical_options = {string_option("source-address", "127.0.0.1/32"), string_option("force-command", "x")};
        Certificate c = sign_certificate(key.public_key(), r, ca);
        CHECK(c.verify_signature());
        CHECK(c.key_id() == "kid");
        CHECK(c.serial() == 7);
        CHECK(c.valid_before() - c.valid_after() == 24 * 3600 + 60);
        REQUIRE(c.critical_options().size() == 2);
        CHECK(c.critical_options()[0].name == "force-command");
        CHECK(c.extensions().size() == 5);
    }
    PrivateKey ca = make("ed25519");
    CertificateRequest empty_window = certificate_request(CertificateType::host, "h", {"h"});
    empty_window.valid_before = empty_window.valid_after;
    CHECK_THROWS_AS(sign_certificate(key.public_key(), empty_window, ca), std::invalid_argument);
}
