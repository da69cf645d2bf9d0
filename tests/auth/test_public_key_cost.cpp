// Cheap before expensive (DESIGN rule 9, issue 14 finding 1): both sides
// refuse a key they would refuse anyway before spending a signature verify,
// and RSA keys with an unbounded exponent never reach the verifier. The
// verifies are counted (openssh::signature_verifications), not timed; the
// scripted peers verify nothing themselves.
#include <doctest/doctest.h>

#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;
using namespace authchain::pk_test;

TEST_CASE("public_key: a C1 with a huge RSA exponent is a protocol error, not a verify") {
    Fixture f;
    Bytes hostile = huge_exponent_rsa_blob();
    auto attacker = scripted_client([&](const KeyProof&) { return encode_c1({hostile, rsa_signature_blob()}); });
    VerifyCounter verifies;
    auto r = handshake(f.server(), attacker);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("unusable user key"));
    CHECK(r.server.detail_has("exponent"));
    CHECK(verifies.count() == 0);
}

TEST_CASE("public_key: an unlisted user key is refused without verifying its signature") {
    Fixture f;
    PrivateKey stranger = PrivateKey::generate_ed25519();
    auto unlisted = scripted_client([&](const KeyProof& s1) {
        return encode_c1({stranger.public_key().blob(), stranger.sign(user_signed_data(channel_a, s1.key_blob))});
    });
    VerifyCounter verifies;
    auto r = handshake(f.server(), unlisted);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("key not in authorized_keys"));
    CHECK(verifies.count() == 0);

    // A key refused by from= or expiry-time (part of the lookup) is not verified either.
    test::write_file(f.authorized_keys, "expiry-time=\"20200101Z\" " + f.user.public_key().to_line() + "\n", 0600);
    auto expired_key = scripted_client([&](const KeyProof& s1) {
        return encode_c1({f.user.public_key().blob(), f.user.sign(user_signed_data(channel_a, s1.key_blob))});
    });
    VerifyCounter expired_verifies;
    auto expired = handshake(f.server(), expired_key);
    CHECK(expired.server.detail_has("expired on 20200101Z"));
    CHECK(expired_verifies.count() == 0);
}

TEST_CASE("public_key: a listed user key is verified, once") {
    Fixture f;
    auto honest = scripted_client([&](const KeyProof& s1) {
        return encode_c1({f.user.public_key().blob(), f.user.sign(user_signed_data(channel_a, s1.key_blob))});
    });
    VerifyCounter verifies;
    auto r = handshake(f.server(), honest);
    CHECK(r.server.credentials);
    CHECK(verifies.count() == 1);

    // Listed, but the proof is for another channel: verified and refused.
    auto relayed = scripted_client([&](const KeyProof& s1) {
        return encode_c1({f.user.public_key().blob(), f.user.sign(user_signed_data(channel_b, s1.key_blob))});
    });
    auto bad = handshake(f.server(), relayed);
    CHECK(bad.server.reason() == DenyReason::denied);
    CHECK(bad.server.detail_has("signature does not verify"));
}

TEST_CASE("public_key client: an unknown host key is refused before verifying its signature") {
    Fixture f;
    PrivateKey stranger = PrivateKey::generate_ed25519();
    auto impostor = scripted_server(
        encode_s1({stranger.public_key().blob(), stranger.sign(host_signed_data(channel_a))}));
    const std::string listed = test::read_file(f.known_hosts);
    test::write_file(f.known_hosts, "# nothing yet\n", 0600);
    VerifyCounter verifies;
    auto r = handshake(impostor, f.client(true));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("strict host key checking"));
    CHECK(verifies.count() == 0);

    // A changed key: refused before verifying too.
    test::write_file(f.known_hosts, listed, 0600);
    VerifyCounter changed_verifies;
    auto changed = handshake(impostor, f.client(false));
    CHECK(changed.client.detail_has("REMOTE HOST IDENTIFICATION HAS CHANGED"));
    CHECK(changed_verifies.count() == 0);

    // The known host is verified, once.
    auto known = scripted_server(encode_s1({f.host.public_key().blob(), f.host.sign(host_signed_data(channel_a))}));
    VerifyCounter known_verifies;
    auto ok = handshake(known, f.client(true));
    CHECK(known_verifies.count() == 1);
    CHECK(ok.client.failure.empty());
}

TEST_CASE("public_key client: a host key with a huge RSA exponent is a protocol error, not a verify") {
    Fixture f;
    auto hostile = scripted_server(encode_s1({huge_exponent_rsa_blob(), rsa_signature_blob()}));
    VerifyCounter verifies;
    auto r = handshake(hostile, f.client(false));
    CHECK(r.client.reason() == DenyReason::protocol_error);
    CHECK(r.client.detail_has("unusable host key"));
    CHECK(verifies.count() == 0);
}

TEST_CASE("public_key client: accept-new records an unknown host only once its signature verified") {
    Fixture f;
    test::write_file(f.known_hosts, "# nothing yet\n", 0600);
    auto forged = scripted_server(
        encode_s1({f.host.public_key().blob(), f.host.sign(host_signed_data(channel_b))}));  // other channel
    auto r = handshake(forged, f.client(false));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("signature does not verify"));
    CHECK(test::read_file(f.known_hosts) == "# nothing yet\n");
}
