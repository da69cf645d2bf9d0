// Known-answer tests for the Noise module: every NN vector of
// tests/vectors/noise-nn.json byte for byte, CipherState's nonce and rekey
// rules, and its records (libsodium's, libcrypto's and ipsec-mb's AEAD)
// against Botan's AEAD.
#include <doctest/doctest.h>

#include <botan/aead.h>
#include <botan/hex.h>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>

#include <authchain/transport/detail/noise/aes_gcm_ipsec_mb.hpp>
#include <authchain/transport/detail/noise/handshake_state.hpp>

#include "tests/support/cpu_flags.hpp"

using namespace authchain;
using namespace authchain::noise;
using Botan::secure_vector;

namespace {

nlohmann::json load_vectors() {
    const char* root = std::getenv("AUTHCHAIN_SOURCE_ROOT");
    REQUIRE(root != nullptr);
    std::ifstream in(std::string(root) + "/tests/vectors/noise-nn.json");
    REQUIRE(in.good());
    return nlohmann::json::parse(in);
}

Bytes hex(const nlohmann::json& value) { return Botan::hex_decode(value.get<std::string>()); }
secure_vector<std::uint8_t> secret_hex(const nlohmann::json& value) {
    return Botan::hex_decode_locked(value.get<std::string>());
}
Bytes plain(const secure_vector<std::uint8_t>& v) { return Bytes(v.begin(), v.end()); }

Bytes encrypt(CipherState& cs, const Bytes& payload) {
    secure_vector<std::uint8_t> buffer(payload.begin(), payload.end());
    cs.encrypt_with_ad({}, buffer);
    return Bytes(buffer.begin(), buffer.end());
}

Bytes decrypt(CipherState& cs, const Bytes& ciphertext) {
    secure_vector<std::uint8_t> buffer(ciphertext.begin(), ciphertext.end());
    cs.decrypt_with_ad({}, buffer);
    return Bytes(buffer.begin(), buffer.end());
}

// The in-place variant the record layer uses.
Bytes decrypt_in_place(CipherState& cs, Bytes ciphertext) {
    const std::size_t n = cs.decrypt_with_ad({}, std::span<std::uint8_t>(ciphertext));
    ciphertext.resize(n);
    return ciphertext;
}

// Botan's AEAD (the independent reference): `input` sealed or opened in one go.
Bytes botan_aead(Cipher cipher, Botan::Cipher_Dir direction, const secure_vector<std::uint8_t>& key,
                 const Bytes& iv, const Bytes& ad, const Bytes& input) {
    // Botan's names for the two ciphers (the library's records use libcrypto's).
    const std::string name = cipher == Cipher::AESGCM ? "AES-256/GCM" : "ChaCha20Poly1305";
    auto mode = Botan::AEAD_Mode::create_or_throw(name, direction);
    mode->set_key(key);
    mode->set_associated_data(ad.data(), ad.size());
    mode->start(iv);
    secure_vector<std::uint8_t> buffer(input.begin(), input.end());
    mode->finish(buffer);
    return Bytes(buffer.begin(), buffer.end());
}

// Runs `body` once per implementation of long AES-GCM records this process
// can use: ipsec-mb (where available) and libcrypto; then restores the default.
// Turns ipsec-mb back on (the process default) when the test leaves.
struct RestoreIpsecMb {
    ~RestoreIpsecMb() { ipsec_mb::set_enabled(true); }
};

template <class Body>
void for_each_long_record_path(Body body) {
    RestoreIpsecMb restore;
    for (bool fast : {true, false}) {
        ipsec_mb::set_enabled(fast);
        if (fast && !ipsec_mb::available()) continue;
        CAPTURE(ipsec_mb::description());
        body();
    }
}

CipherState keyed(Cipher cipher, std::uint8_t fill = 7) {
    CipherState cs(cipher);
    cs.initialize_key(secure_vector<std::uint8_t>(KEYLEN, fill));
    return cs;
}

}  // namespace

TEST_CASE("noise: every NN vector, byte for byte") {
    auto doc = load_vectors();
    REQUIRE(doc["vectors"].size() == 6);
    for (const auto& v : doc["vectors"]) {
        const std::string name = v["protocol_name"];
        CAPTURE(name);
        REQUIRE(name.rfind("Noise_NN_", 0) == 0);
        auto suite = parse_suite(name.substr(9));
        REQUIRE(suite.has_value());
        CHECK(suite->protocol_name() == name);

        HandshakeState init(*suite, Role::initiator, hex(v["init_prologue"]), secret_hex(v["init_ephemeral"]));
        HandshakeState resp(*suite, Role::responder, hex(v["resp_prologue"]), secret_hex(v["resp_ephemeral"]));
        const auto& messages = v["messages"];
        REQUIRE(messages.size() >= 2);

        // Message 1: initiator -> responder.
        Bytes m1 = init.write_message(hex(messages[0]["payload"]));
        CHECK(m1 == hex(messages[0]["ciphertext"]));
        CHECK(plain(resp.read_message(m1)) == hex(messages[0]["payload"]));
        // Message 2: responder -> initiator.
        Bytes m2 = resp.write_message(hex(messages[1]["payload"]));
        CHECK(m2 == hex(messages[1]["ciphertext"]));
        CHECK(plain(init.read_message(m2)) == hex(messages[1]["payload"]));

        REQUIRE(init.finished());
        REQUIRE(resp.finished());
        auto i = init.split();
        auto r = resp.split();
        CHECK(i.handshake_hash == hex(v["handshake_hash"]));
        CHECK(r.handshake_hash == i.handshake_hash);

        // Transport: even messages from the initiator, odd from the responder.
        for (std::size_t n = 2; n < messages.size(); ++n) {
            CAPTURE(n);
            auto& sender = n % 2 == 0 ? i.send : r.send;
            auto& receiver = n % 2 == 0 ? r.receive : i.receive;
            Bytes ct = encrypt(sender, hex(messages[n]["payload"]));
            CHECK(ct == hex(messages[n]["ciphertext"]));
            if (n % 4 < 2)
                CHECK(decrypt(receiver, ct) == hex(messages[n]["payload"]));
            else
                CHECK(decrypt_in_place(receiver, ct) == hex(messages[n]["payload"]));
        }
    }
}

TEST_CASE("noise: a tampered handshake message fails and a prologue mismatch diverges") {
    Suite suite{Cipher::ChaChaPoly, Hash::SHA256};
    SUBCASE("tampered message 2") {
        HandshakeState init(suite, Role::initiator, {});
        HandshakeState resp(suite, Role::responder, {});
        resp.read_message(init.write_message({}));
        Bytes m2 = resp.write_message({});
        m2.back() ^= 1;
        CHECK_THROWS_AS(init.read_message(m2), NoiseError);
    }
    SUBCASE("different prologues") {
        const Bytes a{1}, b{2};
        HandshakeState init(suite, Role::initiator, a);
        HandshakeState resp(suite, Role::responder, b);
        resp.read_message(init.write_message({}));
        CHECK_THROWS_AS(init.read_message(resp.write_message({})), NoiseError);
    }
    SUBCASE("short, out of turn, low-order key") {
        HandshakeState init(suite, Role::initiator, {});
        HandshakeState resp(suite, Role::responder, {});
        CHECK_THROWS_AS(init.read_message(Bytes(48, 1)), NoiseError);  // not its turn
        CHECK_THROWS_AS(resp.write_message({}), NoiseError);           // not its turn
        CHECK_THROWS_AS(resp.read_message(Bytes(31, 1)), NoiseError);  // shorter than e
        CHECK_THROWS_AS(resp.split(), NoiseError);
        // The all-zero point gives an all-zero DH result: refused.
        HandshakeState resp2(suite, Role::responder, {});
        resp2.read_message(Bytes(32, 0));
        CHECK_THROWS_AS(resp2.write_message({}), NoiseError);
    }
    SUBCASE("message 2 too short for its tag") {
        HandshakeState init(suite, Role::initiator, {});
        init.write_message({});
        CHECK_THROWS_AS(init.read_message(Bytes(47, 9)), NoiseError);
    }
}

TEST_CASE("noise: CipherState nonces") {
    for (Cipher cipher : {Cipher::ChaChaPoly, Cipher::AESGCM}) {
        CAPTURE(static_cast<int>(cipher));
        SUBCASE("no key: identity") {
            CipherState cs(cipher);
            CHECK_FALSE(cs.has_key());
            CHECK(encrypt(cs, Bytes{1, 2, 3}) == Bytes{1, 2, 3});
            CHECK(cs.nonce() == 0);
        }
        SUBCASE("nonce increments; replay and reorder fail; failure keeps the nonce") {
            auto tx = keyed(cipher), rx = keyed(cipher);
            Bytes c0 = encrypt(tx, {10});
            Bytes c1 = encrypt(tx, {11});
            CHECK(tx.nonce() == 2);
            CHECK(c0.size() == 1 + TAGLEN);
            CHECK_THROWS_AS(decrypt(rx, c1), NoiseError);  // reordered
            CHECK(rx.nonce() == 0);
            CHECK(decrypt(rx, c0) == Bytes{10});
            CHECK_THROWS_AS(decrypt(rx, c0), NoiseError);  // replayed
            CHECK(decrypt(rx, c1) == Bytes{11});
        }
        SUBCASE("a bad tag wipes the buffer") {
            auto tx = keyed(cipher), rx = keyed(cipher);
            Bytes ct = encrypt(tx, Bytes(40, 0x55));
            ct[3] ^= 0x80;
            secure_vector<std::uint8_t> buffer(ct.begin(), ct.end());
            CHECK_THROWS_AS(rx.decrypt_with_ad({}, buffer), NoiseError);
            for (auto b : buffer) REQUIRE(b == 0);
        }
        SUBCASE("in place, across whole blocks and a tail; a bad tag wipes the range") {
            for (std::size_t size : {0, 1, 63, 64, 65, 1000, 4096}) {
                CAPTURE(size);
                auto tx = keyed(cipher), rx = keyed(cipher), rx2 = keyed(cipher);
                Bytes plain(size);
                for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 7);
                Bytes ct = encrypt(tx, plain);
                CHECK(decrypt_in_place(rx, ct) == plain);
                CHECK(rx.nonce() == 1);
                for (std::size_t at : {std::size_t{0}, ct.size() / 2, ct.size() - 1}) {
                    Bytes bad = ct;
                    bad[at] ^= 0x20;
                    CHECK_THROWS_AS(rx2.decrypt_with_ad({}, std::span<std::uint8_t>(bad)), NoiseError);
                    CHECK(rx2.nonce() == 0);
                    for (auto b : bad) REQUIRE(b == 0);
                }
            }
            CipherState short_input = keyed(cipher);
            Bytes tiny(TAGLEN - 1, 1);
            CHECK_THROWS_AS(short_input.decrypt_with_ad({}, std::span<std::uint8_t>(tiny)), NoiseError);
        }
        SUBCASE("ad is authenticated") {
            auto tx = keyed(cipher), rx = keyed(cipher);
            const Bytes ad1{1}, ad2{2};
            secure_vector<std::uint8_t> buffer{5, 6};
            tx.encrypt_with_ad(ad1, buffer);
            CHECK_THROWS_AS(rx.decrypt_with_ad(ad2, buffer), NoiseError);
        }
        SUBCASE("2^64-1 is reserved") {
            auto tx = keyed(cipher), rx = keyed(cipher);
            const auto max = std::numeric_limits<std::uint64_t>::max();
            tx.set_nonce(max - 1);
            rx.set_nonce(max - 1);
            Bytes ct = encrypt(tx, {1});
            CHECK(decrypt(rx, ct) == Bytes{1});
            CHECK(tx.nonce() == max);
            CHECK_THROWS_AS(encrypt(tx, {1}), NoiseError);
            CHECK_THROWS_AS(decrypt(rx, ct), NoiseError);
        }
        SUBCASE("rekey: both sides agree, old key no longer works, nonce kept") {
            auto tx = keyed(cipher), rx = keyed(cipher), stale = keyed(cipher);
            encrypt(tx, {1});
            decrypt(rx, encrypt(stale, {1}));
            tx.rekey();
            rx.rekey();
            CHECK(tx.nonce() == 1);
            Bytes ct = encrypt(tx, {2});
            CHECK_THROWS_AS(decrypt(stale, ct), NoiseError);
            CHECK(decrypt(rx, ct) == Bytes{2});
        }
        SUBCASE("rekey is ENCRYPT(k, 2^64-1, empty, zeros)[:32]") {
            const secure_vector<std::uint8_t> k(KEYLEN, 7);
            const Bytes sealed = botan_aead(cipher, Botan::ENCRYPTION, k,
                                            Bytes{0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, {},
                                            Bytes(32, 0));
            CipherState expected(cipher);
            expected.initialize_key(secure_vector<std::uint8_t>(sealed.begin(), sealed.begin() + 32));
            auto cs = keyed(cipher);
            cs.rekey();
            CHECK(encrypt(cs, {9, 9}) == encrypt(expected, {9, 9}));
        }
    }
}

TEST_CASE("noise: CipherState records equal Botan's AEAD, byte for byte, both ways") {
    // Independent implementations: the records CipherState makes (with
    // libsodium up to 512 bytes, with libcrypto above) must be exactly what
    // Botan makes and must open with Botan, for every size class (empty,
    // partial block, whole blocks, both sides of the switch, a full Noise
    // message), with associated data and a nonce past 2^32; AES-GCM's long
    // records through ipsec-mb and through libcrypto.
    for_each_long_record_path([] {
    for (Cipher cipher : {Cipher::ChaChaPoly, Cipher::AESGCM}) {
        CAPTURE(static_cast<int>(cipher));
        const secure_vector<std::uint8_t> key = Botan::hex_decode_locked(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f");
        const std::uint64_t nonce = 0x0102030405060708ULL;
        Bytes iv(12, 0);
        for (int i = 0; i < 8; ++i) {
            auto byte = static_cast<std::uint8_t>(nonce >> (8 * i));
            iv[cipher == Cipher::ChaChaPoly ? 4 + i : 11 - i] = byte;
        }
        for (std::size_t size : std::initializer_list<std::size_t>{0, 1, 15, 16, 17, 63, 64, 511, 512, 513, 1000, 16384, MAX_MESSAGE - TAGLEN}) {
            CAPTURE(size);
            Bytes plain(size), ad{0xad, 0x01, 0x02};
            for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 31 + 3);

            const Bytes reference = botan_aead(cipher, Botan::ENCRYPTION, key, iv, ad, plain);

            CipherState tx(cipher);
            tx.initialize_key(key);
            tx.set_nonce(nonce);
            Bytes record = plain;
            record.resize(size + TAGLEN);
            tx.encrypt_with_ad(ad, std::span<std::uint8_t>(record));
            CHECK(record == reference);

            CHECK(botan_aead(cipher, Botan::DECRYPTION, key, iv, ad, record) == plain);

            // Out of place, the first byte apart (the record layer's type
            // byte and the caller's body): the same record, nonce advanced.
            if (size > 0) {
                CipherState gathered(cipher);
                gathered.initialize_key(key);
                gathered.set_nonce(nonce);
                Bytes out(size + TAGLEN, 0xee);
                gathered.encrypt_with_ad(ad, ByteView(plain.data(), 1), ByteView(plain.data() + 1, size - 1),
                                         std::span<std::uint8_t>(out));
                CHECK(out == reference);
                CHECK(gathered.nonce() == nonce + 1);
                CHECK_THROWS_AS(gathered.encrypt_with_ad(ad, ByteView(plain.data(), 1), ByteView(plain.data() + 1, size - 1),
                                                         std::span<std::uint8_t>(out).first(out.size() - 1)),
                                NoiseError);
            }

            CipherState rx(cipher);
            rx.initialize_key(key);
            rx.set_nonce(nonce);
            Bytes in_place = reference;
            CHECK(rx.decrypt_with_ad(ad, std::span<std::uint8_t>(in_place)) == size);
            in_place.resize(size);
            CHECK(in_place == plain);

            // A flipped bit anywhere fails and wipes the range (ciphertext and tag).
            if (size > 0) {
                for (std::size_t at : {std::size_t{0}, size - 1, size}) {
                    CipherState forged_rx(cipher);
                    forged_rx.initialize_key(key);
                    forged_rx.set_nonce(nonce);
                    Bytes forged = reference;
                    forged[at] ^= 0x40;
                    CHECK_THROWS_AS(forged_rx.decrypt_with_ad(ad, std::span<std::uint8_t>(forged)), NoiseError);
                    CHECK(forged == Bytes(forged.size(), 0));
                    CHECK(forged_rx.nonce() == nonce);
                }
            }
        }
    }
    });
}

TEST_CASE("noise: the two directions of a channel share one EVP context and still equal Botan's records") {
    // One context keyed in turn for the sending key (encrypting) and the
    // receiving key (decrypting): every switch must key it again, a rekey of
    // one direction must not leak into the other, and a failed tag must not
    // leave it keyed wrongly for the next record. Records of up to 512 bytes
    // bypass the context (libsodium): long and short ones alternate, so the
    // context is keyed again after records it never saw. The same with
    // ipsec-mb's expanded key in place of the EVP context.
    for_each_long_record_path([] {
    for (Cipher cipher : {Cipher::ChaChaPoly, Cipher::AESGCM}) {
        CAPTURE(static_cast<int>(cipher));
        secure_vector<std::uint8_t> send_key(KEYLEN), receive_key(KEYLEN);
        for (std::size_t i = 0; i < KEYLEN; ++i) {
            send_key[i] = static_cast<std::uint8_t>(i);
            receive_key[i] = static_cast<std::uint8_t>(0x80 + i);
        }
        CipherState send(cipher), receive(cipher);
        send.initialize_key(send_key);
        receive.initialize_key(receive_key);
        send.share_context_with(receive);
        auto iv_of = [cipher](std::uint64_t n) {
            Bytes iv(12, 0);
            for (int i = 0; i < 8; ++i)
                iv[cipher == Cipher::ChaChaPoly ? 4 + i : 11 - i] = static_cast<std::uint8_t>(n >> (8 * i));
            return iv;
        };
        const Bytes ad{0x01};
        for (std::uint64_t n = 0; n < 8; ++n) {
            CAPTURE(n);
            const std::size_t size = static_cast<std::size_t>(n % 3 == 1 ? 10 + 7 * n : 600 + 7 * n);
            const Bytes plain(size, static_cast<std::uint8_t>(n));
            // Out: this side's record, as Botan makes it with the sending key.
            Bytes out = plain;
            out.resize(plain.size() + TAGLEN);
            send.encrypt_with_ad(ad, std::span<std::uint8_t>(out));
            CHECK(out == botan_aead(cipher, Botan::ENCRYPTION, send_key, iv_of(n), ad, plain));
            // In: the peer's record, made by Botan with the receiving key.
            Bytes in = botan_aead(cipher, Botan::ENCRYPTION, receive_key, iv_of(n), ad, plain);
            if (n == 2 || n == 4) {  // a long record and a short one
                Bytes forged = in;
                forged.back() ^= 1;
                CHECK_THROWS_AS(receive.decrypt_with_ad(ad, std::span<std::uint8_t>(forged)), NoiseError);
            }
            REQUIRE(receive.decrypt_with_ad(ad, std::span<std::uint8_t>(in)) == plain.size());
            in.resize(plain.size());
            CHECK(in == plain);
            if (n == 3) {
                // Rekey the sending direction: k' = ENCRYPT(k, 2^64-1, "", zeros)[0..32].
                Bytes zeros(KEYLEN, 0);
                Bytes next = botan_aead(cipher, Botan::ENCRYPTION, send_key, iv_of(~std::uint64_t{0}), {}, zeros);
                send_key.assign(next.begin(), next.begin() + static_cast<std::ptrdiff_t>(KEYLEN));
                send.rekey();
            }
        }
    }
    });
}

TEST_CASE("noise: a record sealed by one AES-GCM implementation opens with the other") {
    // Peers choose independently (one may run on a CPU without VAES).
    if (!ipsec_mb::available()) return;  // the case below covers why not
    RestoreIpsecMb restore;
    const Bytes ad{0x05};
    for (std::size_t size : {std::size_t{513}, std::size_t{4099}, MAX_MESSAGE - TAGLEN}) {
        CAPTURE(size);
        Bytes plain(size);
        for (std::size_t i = 0; i < size; ++i) plain[i] = static_cast<std::uint8_t>(i * 7);
        for (bool seal_fast : {true, false}) {
            CAPTURE(seal_fast);
            CipherState tx = keyed(Cipher::AESGCM), rx = keyed(Cipher::AESGCM);
            Bytes record = plain;
            record.resize(size + TAGLEN);
            ipsec_mb::set_enabled(seal_fast);
            tx.encrypt_with_ad(ad, std::span<std::uint8_t>(record));
            ipsec_mb::set_enabled(!seal_fast);
            REQUIRE(rx.decrypt_with_ad(ad, std::span<std::uint8_t>(record)) == size);
            record.resize(size);
            CHECK(record == plain);
        }
    }
}

TEST_CASE("noise: ipsec-mb seals AES-GCM where the CPU has AVX-512 and VAES") {
    // The bulk figures of issue 11 rest on it: a build without the package,
    // or a change that stops using it, fails here rather than only showing
    // as slower (install libipsec-mb-dev: scripts/install-deps.sh does).
    const std::string description = ipsec_mb::description();
    CAPTURE(description);
    if (!authchain::test::cpu_has_avx512_vaes()) {
        CHECK(!ipsec_mb::available());
        return;
    }
    CHECK(ipsec_mb::available());
    CHECK(description.find("ipsec-mb ") == 0);
    ipsec_mb::set_enabled(false);
    CHECK(!ipsec_mb::available());
    CHECK(ipsec_mb::description() == "not used: turned off by set_enabled");
    ipsec_mb::set_enabled(true);
    CHECK(ipsec_mb::available());
}

TEST_CASE("noise: suite names") {
    CHECK(parse_suite("25519_AESGCM_SHA256") == Suite{Cipher::AESGCM, Hash::SHA256});
    CHECK(parse_suite("25519_ChaChaPoly_BLAKE2b") == Suite{Cipher::ChaChaPoly, Hash::BLAKE2b});
    CHECK_FALSE(parse_suite("448_AESGCM_SHA256"));
    CHECK_FALSE(parse_suite("25519_AESGCM_BLAKE2s"));
    CHECK_FALSE(parse_suite(""));
    CHECK(Suite{Cipher::AESGCM, Hash::SHA512}.protocol_name() == "Noise_NN_25519_AESGCM_SHA512");
}
