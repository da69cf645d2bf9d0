// resumption's messages and proofs as pure functions: they round-trip,
// every malformed one is a protocol error, and the proofs match the
// documented formula (auth/resumption.hpp), computed here independently.
#include <doctest/doctest.h>

#include <botan/mac.h>

#include <functional>

#include <authchain/auth/resumption/detail/messages.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/compose/frame.hpp>

namespace resumption_messages_test {

using namespace authchain;

const Bytes channel_a{1, 2, 3, 4, 5, 6, 7, 8};

Bytes resume_r1(const TicketId& id, const ResumptionProof& proof) {
    return encode_resumption_r1({.resume = ResumptionR1::Resume{.id = id, .proof = proof}});
}

TEST_CASE("resumption: messages round-trip, and every malformed one is a protocol error") {
    TicketId id{};
    id.fill(0xab);
    ResumptionProof proof{};
    proof.fill(0xcd);
    auto body = [](const Bytes& frame) { return Bytes(frame.begin() + frame_header_size, frame.end()); };

    auto full = decode_resumption_r1(body(encode_resumption_r1({})));
    CHECK_FALSE(full.resume);
    auto resume = decode_resumption_r1(body(resume_r1(id, proof)));
    REQUIRE(resume.resume);
    CHECK(resume.resume->id == id);
    CHECK(resume.resume->proof == proof);
    auto r2 = decode_resumption_r2(body(encode_resumption_r2({.verdict = ResumptionVerdict::resumed, .proof = proof})));
    CHECK(r2.verdict == ResumptionVerdict::resumed);
    CHECK(r2.proof == proof);
    ResumptionR3 r3{.lifetime_seconds = 300, .id = id, .secret = TicketSecret(32, 7)};
    Bytes r3_body = body(encode_resumption_r3(r3));
    CHECK(r3_body.size() == 1 + 4 + 32 + 32);
    auto back = decode_resumption_r3(r3_body);
    CHECK(back.lifetime_seconds == 300);
    CHECK(back.id == id);
    CHECK(back.secret == r3.secret);

    auto refused = [](std::function<void()> decode, const std::string& part) {
        try {
            decode();
            FAIL("decoded: ", part);
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::protocol_error);
            CHECK_MESSAGE(e.detail().find(part) != std::string::npos, e.detail());
        }
    };
    Bytes r1_body = body(resume_r1(id, proof));
    refused([&] { decode_resumption_r1(Bytes{1, 2}); }, "unknown mode 2");
    refused([&] { decode_resumption_r1(Bytes{2, 0}); }, "unexpected message type");
    refused([&] { decode_resumption_r1(Bytes(r1_body.begin(), r1_body.end() - 1)); }, "R1");
    Bytes longer = r1_body;
    longer.push_back(0);
    refused([&] { decode_resumption_r1(longer); }, "trailing");
    refused([&] { decode_resumption_r1(Bytes{1, 0, 0}); }, "trailing");
    refused([&] { decode_resumption_r2(Bytes{2, 2}); }, "unknown verdict 2");
    refused([&] { decode_resumption_r2(Bytes{2, 0}); }, "R2");  // resumed without a proof
    refused([&] { decode_resumption_r2(Bytes{2, 1, 0}); }, "trailing");
    Bytes zero_life = r3_body;
    std::fill(zero_life.begin() + 1, zero_life.begin() + 5, 0);
    refused([&] { decode_resumption_r3(zero_life); }, "lifetime 0 s out of range");
    Bytes long_life = r3_body;
    long_life[1] = 0xff;
    refused([&] { decode_resumption_r3(long_life); }, "out of range 1..86400");
    refused([&] { decode_resumption_r3(Bytes(r3_body.begin(), r3_body.end() - 1)); }, "R3");
}

TEST_CASE("resumption: the proofs by known answer, computed here from the documented formula") {
    TicketSecret secret(32);
    for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(i);
    TicketId id{};
    id.fill(0xee);
    auto expected = [&](std::string_view label) {
        auto mac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
        mac->set_key(secret);
        auto string = [&](ByteView v) {
            std::uint8_t len[4] = {0, 0, 0, static_cast<std::uint8_t>(v.size())};
            mac->update(len, 4);
            mac->update(v.data(), v.size());
        };
        string(as_bytes(label));
        string(channel_a);
        string(ByteView(id));
        ResumptionProof out{};
        mac->final(out.data());
        return out;
    };
    CHECK(resumption_proof(secret, ResumptionRole::client, channel_a, id) ==
          expected("authchain resumption client v1"));
    CHECK(resumption_proof(secret, ResumptionRole::server, channel_a, id) ==
          expected("authchain resumption server v1"));
    CHECK(hmac_proofs_equal(expected("x"), expected("x")));
    CHECK_FALSE(hmac_proofs_equal(expected("x"), expected("y")));
}

}  // namespace resumption_messages_test
