#include <doctest/doctest.h>

#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/compose/error.hpp>

using namespace authchain;

namespace {

// The body of a whole frame, after checking its length prefix.
ByteView body_of(const Bytes& frame) {
    REQUIRE(frame.size() >= 4);
    std::size_t n = frame_length({frame[0], frame[1], frame[2], frame[3]}, max_public_key_message, "test");
    REQUIRE(n == frame.size() - 4);
    return ByteView(frame).subspan(4);
}

DenyReason reason_of(auto&& f) {
    try {
        f();
    } catch (const AuthenticationError& e) {
        return e.reason();
    }
    return DenyReason::busy;  // did not throw
}

}  // namespace

TEST_CASE("public_key messages: round trips") {
    KeyProof proof{{1, 2, 3}, {4, 5}};
    CHECK(decode_s1(body_of(encode_s1(proof))) == proof);
    CHECK(decode_c1(body_of(encode_c1(proof))) == proof);
    CHECK(decode_s2(body_of(encode_s2(true))));
    CHECK_FALSE(decode_s2(body_of(encode_s2(false))));
    CHECK(encode_s2(true) == Bytes{0, 0, 0, 2, 3, 0});
    CHECK(encode_s2(false) == Bytes{0, 0, 0, 2, 3, 3});
}

TEST_CASE("public_key messages: what is signed is unambiguous and bound to the channel") {
    Bytes a{1, 2}, b{1, 2, 3};
    CHECK(host_signed_data(a) != host_signed_data(b));
    CHECK(user_signed_data(Bytes{1, 2, 3}, Bytes{4}) != user_signed_data(Bytes{1, 2}, Bytes{3, 4}));
    CHECK(user_signed_data(a, b) != host_signed_data(a));
    Bytes h = host_signed_data(a);
    std::string label = "authchain public_key host v1";
    REQUIRE(h.size() == 4 + label.size() + 4 + 2);
    CHECK(std::string(h.begin() + 4, h.begin() + 4 + static_cast<long>(label.size())) == label);
}

TEST_CASE("public_key messages: malformed input is a protocol error") {
    KeyProof proof{{1, 2, 3}, {4, 5}};
    Bytes frame = encode_s1(proof);
    ByteView body = body_of(frame);
    Bytes s1(body.begin(), body.end());
    CHECK(reason_of([&] { decode_c1(s1); }) == DenyReason::protocol_error);  // wrong type
    Bytes trailing = s1;
    trailing.push_back(0);
    CHECK(reason_of([&] { decode_s1(trailing); }) == DenyReason::protocol_error);
    for (std::size_t cut = 0; cut < s1.size(); ++cut) {
        CAPTURE(cut);
        CHECK(reason_of([&] { decode_s1(ByteView(s1).first(cut)); }) == DenyReason::protocol_error);
    }
    Bytes huge_string{1, 0xff, 0xff, 0xff, 0xff, 1};
    CHECK(reason_of([&] { decode_s1(huge_string); }) == DenyReason::protocol_error);
    Bytes empty_fields{1, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(reason_of([&] { decode_s1(empty_fields); }) == DenyReason::protocol_error);
    CHECK(reason_of([&] { decode_s2(Bytes{3, 7}); }) == DenyReason::protocol_error);
    CHECK(reason_of([&] { decode_s2(Bytes{3}); }) == DenyReason::protocol_error);
    CHECK(reason_of([&] { decode_s2(Bytes{2, 0}); }) == DenyReason::protocol_error);
    CHECK(reason_of([&] { frame_length({0, 0, 0, 0}, max_public_key_message, "x"); }) == DenyReason::protocol_error);
    CHECK(reason_of([&] { frame_length({0, 0, 0x40, 0x01}, max_public_key_message, "x"); }) == DenyReason::protocol_error);
    CHECK(frame_length({0, 0, 0x40, 0x00}, max_public_key_message, "x") == max_public_key_message);
}
