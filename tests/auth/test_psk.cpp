// psk: the layer over the pipe, every denial path, scripted attackers.
#include <doctest/doctest.h>

#include <botan/base64.h>
#include <botan/system_rng.h>
#include <sys/stat.h>

#include <authchain/auth/psk.hpp>
#include <authchain/auth/psk/detail/io.hpp>
#include <authchain/auth/psk/detail/messages.hpp>
#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;
using pk_test::channel_a;
using pk_test::channel_b;
using pk_test::handshake;
using pk_test::pipe_with;

namespace {

std::string b64(const Botan::secure_vector<std::uint8_t>& key) { return Botan::base64_encode(key); }

Botan::secure_vector<std::uint8_t> random_key(std::size_t n = 32) {
    Botan::secure_vector<std::uint8_t> k(n);
    Botan::system_rng().randomize(k.data(), k.size());
    return k;
}

struct PskFixture {
    test::TempDir dir;
    Botan::secure_vector<std::uint8_t> key = random_key(), old_key = random_key();
    std::filesystem::path server_keys = dir / "psk_keys", client_keys = dir / "psk_client";

    PskFixture() {
        test::write_file(server_keys, "# rotation: both live\n2026:" + b64(key) + "\n\n2025:" + b64(old_key) + "\n", 0600);
        test::write_file(client_keys, "2026:" + b64(key) + "\n", 0600);
    }
    Authenticator server(bool plaintext = false) const { return psk({.keys = server_keys, .allow_plaintext = plaintext}); }
    Authenticator client(std::optional<std::string> id = std::nullopt, bool plaintext = false) const {
        return client::psk({.key_file = client_keys, .key_id = std::move(id), .allow_plaintext = plaintext});
    }
    // A client file holding `line` only.
    Authenticator client_with(const std::string& line) const {
        test::write_file(client_keys, line + "\n", 0600);
        return client::psk({.key_file = client_keys});
    }
};

PipeOptions plain_pipe() {
    PipeOptions o;
    o.client.protection = {.confidential = false, .peer_authenticated = false, .channel_id = {}, .transport = "tcp"};
    o.server.protection = o.client.protection;
    return o;
}

// A scripted client: reads S1, sends make_c1(server nonce), reads S2.
Authenticator scripted_client(std::function<Bytes(const PskNonce&)> make_c1) {
    return [make_c1](Session s) -> asio::awaitable<Session> {
        PskNonce ns = decode_psk_s1(co_await read_frame(s.stream, max_psk_message, "S1"));
        Bytes c1 = make_c1(ns);
        co_await write_all(s.stream, asio::buffer(c1));
        if (!decode_psk_s2(co_await read_frame(s.stream, max_psk_message, "S2")).accepted) deny(DenyReason::denied, "refused");
        co_return s;
    };
}

}  // namespace

TEST_CASE("psk: mutual proof over a channel, both sides learn the key id") {
    PskFixture f;
    auto r = handshake(f.server(), f.client());
    REQUIRE_MESSAGE(r.server.credentials, (r.server.error ? r.server.error->detail() : r.server.failure));
    REQUIRE_MESSAGE(r.client.credentials, (r.client.error ? r.client.error->detail() : r.client.failure));
    CHECK(r.server.credentials->psk_id == std::string("2026"));
    CHECK(r.client.credentials->psk_id == std::string("2026"));
    CHECK(r.server.credentials->layers() == std::vector<std::string>{"transport", "psk"});
}

TEST_CASE("psk: during a rotation every key of the server's file is accepted") {
    PskFixture f;
    test::write_file(f.client_keys, "2026:" + b64(f.key) + "\n2025:" + b64(f.old_key) + "\n", 0600);
    auto r = handshake(f.server(), f.client("2025"));
    REQUIRE(r.server.credentials);
    CHECK(r.server.credentials->psk_id == std::string("2025"));
    CHECK(handshake(f.server(), f.client()).server.credentials->psk_id == std::string("2026"));  // first key
}

TEST_CASE("psk: an unknown key id is refused, and the client learns only that") {
    PskFixture f;
    auto r = handshake(f.server(), f.client_with("other:" + b64(f.key)));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("unknown psk key id \"other\""));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("the server refused psk key id \"other\""));
}

TEST_CASE("psk: a wrong key under a known id is refused") {
    PskFixture f;
    auto r = handshake(f.server(), f.client_with("2026:" + b64(random_key())));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("proof does not verify"));
    CHECK(r.client.reason() == DenyReason::denied);
}

TEST_CASE("psk: a proof made for another channel is refused") {
    PskFixture f;
    auto options = pipe_with(channel_a);
    options.client.protection.channel_id = channel_b;  // a relay between two channels
    auto r = handshake(f.server(), f.client(), options);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("proof does not verify"));
}

TEST_CASE("psk: a recorded proof replayed on a new connection is refused") {
    PskFixture f;
    Bytes recorded;
    auto record = scripted_client([&](const PskNonce& ns) {
        PskC1 c1{.key_id = "2026", .client_nonce = fresh_psk_nonce(), .proof = {}};
        c1.proof = psk_proof(f.key, PskRole::client, channel_a, "2026", ns, c1.client_nonce);
        recorded = encode_psk_c1(c1);
        return recorded;
    });
    REQUIRE(handshake(f.server(), record).server.credentials);  // the genuine exchange
    auto replay = scripted_client([&](const PskNonce&) { return recorded; });
    auto r = handshake(f.server(), replay);  // same channel id: only the nonce differs
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("proof does not verify"));
}

TEST_CASE("psk: reflection: the server's nonce sent back is refused") {
    PskFixture f;
    auto reflect = scripted_client([&](const PskNonce& ns) {
        PskC1 c1{.key_id = "2026", .client_nonce = ns, .proof = {}};
        c1.proof = psk_proof(f.key, PskRole::client, channel_a, "2026", ns, ns);  // even with the key
        return encode_psk_c1(c1);
    });
    auto r = handshake(f.server(), reflect);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("our own nonce back"));
}

TEST_CASE("psk: reflection: a server proof is no client proof") {
    PskFixture f;
    auto as_server = scripted_client([&](const PskNonce& ns) {
        PskC1 c1{.key_id = "2026", .client_nonce = fresh_psk_nonce(), .proof = {}};
        c1.proof = psk_proof(f.key, PskRole::server, channel_a, "2026", ns, c1.client_nonce);
        return encode_psk_c1(c1);
    });
    CHECK(handshake(f.server(), as_server).server.reason() == DenyReason::denied);
}

TEST_CASE("psk: reflection: the client refuses its own proof sent back as the server's") {
    PskFixture f;
    Authenticator mirror = [](Session s) -> asio::awaitable<Session> {
        Bytes s1 = encode_psk_s1(fresh_psk_nonce());
        co_await write_all(s.stream, asio::buffer(s1));
        PskC1 c1 = decode_psk_c1(co_await read_frame(s.stream, max_psk_message, "C1"));
        Bytes s2 = encode_psk_s2({.accepted = true, .proof = c1.proof});
        co_await write_all(s.stream, asio::buffer(s2));
        co_return s;
    };
    auto r = handshake(mirror, f.client());
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("the server did not prove psk key id \"2026\""));
    CHECK_FALSE(r.client.credentials);
}

TEST_CASE("psk: a server that does not know the key cannot pass as one that does") {
    PskFixture f;
    test::write_file(f.server_keys, "2026:" + b64(random_key()) + "\n", 0600);
    auto r = handshake(f.server(), f.client());
    CHECK(r.server.reason() == DenyReason::denied);  // it refuses the client's proof
    CHECK(r.client.reason() == DenyReason::denied);
}

TEST_CASE("psk: a plain stream is refused unless allow_plaintext, then works without a channel id") {
    PskFixture f;
    auto refused = handshake(f.server(), f.client(std::nullopt, true), plain_pipe());
    CHECK(refused.server.reason() == DenyReason::protocol_error);
    CHECK(refused.server.detail_has("not confidential"));
    auto client_refuses = handshake(f.server(true), f.client(), plain_pipe());
    CHECK(client_refuses.client.reason() == DenyReason::protocol_error);
    auto r = handshake(f.server(true), f.client(std::nullopt, true), plain_pipe());
    REQUIRE(r.server.credentials);
    CHECK(r.server.credentials->psk_id == std::string("2026"));
    CHECK(r.client.credentials);
}

TEST_CASE("psk: an encrypted stream without a channel id is refused") {
    PskFixture f;
    auto r = handshake(f.server(true), f.client(std::nullopt, true), pipe_with({}));
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("without a channel id"));
    CHECK(r.client.reason() == DenyReason::protocol_error);
}

TEST_CASE("psk: malformed messages are protocol errors") {
    PskFixture f;
    auto garbage = scripted_client([](const PskNonce&) { return Bytes{0, 0, 0, 3, 2, 0, 0}; });
    CHECK(handshake(f.server(), garbage).server.reason() == DenyReason::protocol_error);
    auto huge = scripted_client([](const PskNonce&) { return Bytes{0, 1, 0, 0}; });
    auto r = handshake(f.server(), huge);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("out of range"));
}

TEST_CASE("psk: messages round-trip and reject trailing bytes") {
    PskC1 c1{.key_id = "k.1", .client_nonce = fresh_psk_nonce(), .proof = {}};
    c1.proof[0] = 7;
    Bytes frame = encode_psk_c1(c1);
    ByteView body(frame.data() + 4, frame.size() - 4);
    PskC1 back = decode_psk_c1(body);
    CHECK(back.key_id == "k.1");
    CHECK(back.client_nonce == c1.client_nonce);
    CHECK(back.proof == c1.proof);
    Bytes longer(body.begin(), body.end());
    longer.push_back(0);
    CHECK_THROWS_AS(decode_psk_c1(longer), AuthenticationError);
    Bytes s2 = encode_psk_s2({.accepted = false, .proof = {}});
    CHECK_FALSE(decode_psk_s2(ByteView(s2.data() + 4, s2.size() - 4)).accepted);
}

TEST_CASE("psk: the proof covers every field") {
    auto key = random_key();
    PskNonce a = fresh_psk_nonce(), b = fresh_psk_nonce();
    PskProof base = psk_proof(key, PskRole::client, channel_a, "id", a, b);
    CHECK(hmac_proofs_equal(base, psk_proof(key, PskRole::client, channel_a, "id", a, b)));
    CHECK_FALSE(hmac_proofs_equal(base, psk_proof(key, PskRole::server, channel_a, "id", a, b)));
    CHECK_FALSE(hmac_proofs_equal(base, psk_proof(key, PskRole::client, channel_b, "id", a, b)));
    CHECK_FALSE(hmac_proofs_equal(base, psk_proof(key, PskRole::client, channel_a, "id2", a, b)));
    CHECK_FALSE(hmac_proofs_equal(base, psk_proof(key, PskRole::client, channel_a, "id", b, a)));
    CHECK_FALSE(hmac_proofs_equal(base, psk_proof(random_key(), PskRole::client, channel_a, "id", a, b)));
}

TEST_CASE("psk key file: the parser's rules") {
    std::string k = b64(random_key());
    auto parsed = parse_psk_keys("# c\n\n a : " + k + " \r\nb@x:" + k + "\n", "f");
    REQUIRE(parsed.keys.size() == 2);
    CHECK(parsed.keys[0].id == "a");
    CHECK(parsed.keys[1].id == "b@x");
    CHECK(parsed.keys[0].key.size() == 32);
    auto refused = [](const std::string& text, const std::string& why) {
        try {
            (void)parse_psk_keys(text, "f");
            FAIL("accepted: " << text);
        } catch (const std::runtime_error& e) {
            CHECK_MESSAGE(std::string(e.what()).find(why) != std::string::npos, e.what());
        }
    };
    refused("# only comments\n", "f: no key");
    refused("a:" + b64(random_key(31)) + "\n", "f:1: key of 31 bytes is too short");
    refused("a:" + k + "\na:" + k + "\n", "f:2: key id \"a\" given twice");
    refused("no colon\n", "f:1: expected id:base64key");
    refused("sp ace:" + k + "\n", "invalid key id");
    refused(":" + k + "\n", "invalid key id");
    refused("a:!!!!" + k + "\n", "not valid base64");
    refused("a:\n", "no key after the id");
    refused("a:" + b64(random_key(1025)) + "\n", "longer than 1024");
}

TEST_CASE("psk key file: a short key file is refused by the layer") {
    PskFixture f;
    test::write_file(f.server_keys, "short:" + b64(random_key(16)) + "\n", 0600);
    CHECK_THROWS_WITH_AS(psk({.keys = f.server_keys}), doctest::Contains("too short"), std::runtime_error);
    test::write_file(f.client_keys, "short:" + b64(random_key(16)) + "\n", 0600);
    CHECK_THROWS_AS(client::psk({.key_file = f.client_keys}), std::runtime_error);
}

TEST_CASE("psk key file: modes that let others read or write it are refused") {
    PskFixture f;
    ::chmod(f.server_keys.c_str(), 0640);
    CHECK_THROWS_AS(psk({.keys = f.server_keys}), std::runtime_error);
    ::chmod(f.server_keys.c_str(), 0602);
    CHECK_THROWS_AS(psk({.keys = f.server_keys}), std::runtime_error);
    ::chmod(f.client_keys.c_str(), 0644);
    CHECK_THROWS_AS(client::psk({.key_file = f.client_keys}), std::runtime_error);
    std::filesystem::create_symlink(f.server_keys, f.dir / "link");
    ::chmod(f.server_keys.c_str(), 0600);
    CHECK_THROWS_AS(psk({.keys = f.dir / "link"}), std::runtime_error);
    CHECK_NOTHROW(psk({.keys = f.server_keys}));
}

TEST_CASE("psk: a client asking for a key id its file lacks fails at build") {
    PskFixture f;
    CHECK_THROWS_WITH_AS(f.client("nope"), doctest::Contains("no key with id \"nope\""), std::runtime_error);
}

TEST_CASE("psk: reload swaps in a new key file, and keeps the old one on error") {
    PskFixture f;
    auto keys = std::make_shared<PskKeys>(PskServerOptions{.keys = f.server_keys});
    auto newer = random_key();
    test::write_file(f.server_keys, "2027:" + b64(newer) + "\n", 0600);
    keys->reload();
    CHECK(keys->current()->find("2027"));
    CHECK_FALSE(keys->current()->find("2026"));
    CHECK(handshake(psk(keys), f.client()).server.reason() == DenyReason::denied);
    test::write_file(f.server_keys, "broken\n", 0600);
    CHECK_THROWS_AS(keys->reload(), std::runtime_error);
    CHECK(keys->current()->find("2027"));
}

TEST_CASE("psk key file: write_psk_key_file makes a fresh private file, atomically, once") {
    test::TempDir dir;
    auto path = dir / "new.psk";
    write_psk_key_file(path, "gate-1", false);
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    PskKeyFile file = read_psk_key_file(path);
    REQUIRE(file.keys.size() == 1);
    CHECK(file.keys[0].id == "gate-1");
    CHECK(file.keys[0].key.size() == 32);
    CHECK_THROWS_WITH_AS(write_psk_key_file(path, "gate-1", false), doctest::Contains("already exists"), std::runtime_error);
    write_psk_key_file(path, "gate-2", true);
    CHECK(read_psk_key_file(path).keys[0].id == "gate-2");
    CHECK_FALSE(read_psk_key_file(path).keys[0].key == file.keys[0].key);
    CHECK_THROWS_AS(write_psk_key_file(dir / "x", "bad id", false), std::runtime_error);
}
