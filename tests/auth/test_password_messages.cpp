// The password protocol's messages: round trips, padding, and every bound.
#include <doctest/doctest.h>

#include <authchain/auth/password/detail/messages.hpp>

using namespace authchain;

namespace {

const Bytes cid{1, 2, 3, 4, 5, 6, 7, 8};

Bytes body_of(const Botan::secure_vector<std::uint8_t>& frame) { return Bytes(frame.begin() + 4, frame.end()); }

DenyReason reason_of_p1(const Bytes& body) {
    try {
        (void)decode_p1(body);
    } catch (const AuthenticationError& e) {
        return e.reason();
    }
    FAIL("decoded");
    return DenyReason::busy;
}

}  // namespace

TEST_CASE("password messages: P1 round trip, padded to a multiple of 512 bytes whatever the password") {
    for (std::size_t n : {1u, 10u, 400u, 1024u}) {
        CAPTURE(n);
        std::string pw(n, 'p');
        auto frame = encode_p1(cid, "alice", pw);
        CHECK((frame.size() - 4) % password_padding_block == 0);
        CHECK(frame_length({frame[0], frame[1], frame[2], frame[3]}, max_password_message, "P1") == frame.size() - 4);
        PasswordLogin login = decode_p1(body_of(frame));
        CHECK(login.channel_id == cid);
        CHECK(login.user == "alice");
        CHECK(std::string(login.password.begin(), login.password.end()) == pw);
    }
    // Short passwords all give one size: the length does not show.
    CHECK(encode_p1(cid, "alice", "a").size() == encode_p1(cid, "alice", std::string(300, 'a')).size());
}

TEST_CASE("password messages: encode_p1 refuses fields out of bounds") {
    CHECK_THROWS_AS(encode_p1(Bytes{}, "alice", "x"), std::invalid_argument);
    CHECK_THROWS_AS(encode_p1(Bytes(65, 1), "alice", "x"), std::invalid_argument);
    CHECK_THROWS_AS(encode_p1(cid, "al ice", "x"), std::invalid_argument);
    CHECK_THROWS_AS(encode_p1(cid, "alice", ""), std::invalid_argument);
    CHECK_THROWS_AS(encode_p1(cid, "alice", std::string(1025, 'x')), std::invalid_argument);
}

TEST_CASE("password messages: malformed P1 bodies are protocol errors") {
    Bytes good = body_of(encode_p1(cid, "alice", "pw"));
    Bytes wrong_type = good;
    wrong_type[0] = 2;
    CHECK(reason_of_p1(wrong_type) == DenyReason::protocol_error);
    CHECK(reason_of_p1(Bytes(good.begin(), good.begin() + 20)) == DenyReason::protocol_error);  // truncated
    Bytes trailing = good;
    trailing.push_back(0);
    CHECK(reason_of_p1(trailing) == DenyReason::protocol_error);
    // byte 1 || string cid || string user || string password (empty) || string padding
    Bytes empty_password{1, 0, 0, 0, 1, 9, 0, 0, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(reason_of_p1(empty_password) == DenyReason::protocol_error);
    Bytes empty_cid{1, 0, 0, 0, 0, 0, 0, 0, 1, 'a', 0, 0, 0, 1, 'p', 0, 0, 0, 0};
    CHECK(reason_of_p1(empty_cid) == DenyReason::protocol_error);
    Bytes huge_length{1, 0xff, 0xff, 0xff, 0xff};
    CHECK(reason_of_p1(huge_length) == DenyReason::protocol_error);
    CHECK(reason_of_p1(Bytes{}) == DenyReason::protocol_error);
}

TEST_CASE("password messages: frame lengths are bounded before allocation") {
    CHECK_THROWS_AS(frame_length({0, 0, 0, 0}, max_password_message, "P1"), AuthenticationError);
    CHECK_THROWS_AS(frame_length({0, 0, 0x08, 0x01}, max_password_message, "P1"), AuthenticationError);
    CHECK(frame_length({0, 0, 0x08, 0x00}, max_password_message, "P1") == 2048);
}

TEST_CASE("password messages: P2 verdicts") {
    auto body = [](Bytes frame) { return Bytes(frame.begin() + 4, frame.end()); };
    CHECK(decode_p2(body(encode_p2(std::nullopt))) == std::nullopt);
    CHECK(decode_p2(body(encode_p2(DenyReason::denied))) == DenyReason::denied);
    CHECK(decode_p2(body(encode_p2(DenyReason::busy))) == DenyReason::busy);
    CHECK_THROWS_AS(decode_p2(Bytes{2, 4}), AuthenticationError);   // unknown verdict
    CHECK_THROWS_AS(decode_p2(Bytes{1, 0}), AuthenticationError);   // wrong type
    CHECK_THROWS_AS(decode_p2(Bytes{2, 0, 0}), AuthenticationError);
    CHECK_THROWS_AS(decode_p2(Bytes{}), AuthenticationError);
}
