// The multiplexed channel's frame codec (relay/multiplex/frame.hpp) as pure
// functions: known bytes written by hand from the header's table, round
// trips, incomplete input, and every refusal, by the decoder and by the
// encoders alike.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/relay/multiplex/frame.hpp>

namespace multiplex_frame_test {

using authchain::Bytes;
using authchain::ByteView;
using authchain::mux::decode_frame;
using authchain::mux::encode_data;
using authchain::mux::encode_fin;
using authchain::mux::encode_hello;
using authchain::mux::encode_open;
using authchain::mux::encode_reset;
using authchain::mux::encode_window;
using authchain::mux::encode_goaway;
using authchain::mux::Frame;
using authchain::mux::FrameError;
using authchain::mux::FrameType;
using authchain::mux::Hello;
using authchain::mux::ResetReason;
namespace mux = authchain::mux;

// "01 0a ff" -> {0x01, 0x0a, 0xff}; spaces are for the reader.
Bytes hex(std::string_view text) {
    std::string digits;
    for (char c : text)
        if (c != ' ') digits += c;
    Bytes out;
    for (std::size_t i = 0; i + 1 < digits.size(); i += 2)
        out.push_back(static_cast<std::uint8_t>(std::stoi(digits.substr(i, 2), nullptr, 16)));
    return out;
}

template <class Encode>
Bytes encoded(Encode encode) {
    Bytes out;
    encode(out);
    return out;
}

// The one frame `wire` holds, which must be all of it.
Frame only_frame(const Bytes& wire) {
    auto decoded = decode_frame(wire);
    REQUIRE(decoded);
    CHECK(decoded->second == wire.size());
    CHECK(decoded->first.payload.data() == wire.data() + mux::frame_header);
    CHECK(decoded->first.payload.size() == wire.size() - mux::frame_header);
    return decoded->first;
}

void refused(const Bytes& wire, std::string_view part) {
    try {
        (void)decode_frame(wire);
        FAIL("decoded, expected a refusal: ", part);
    } catch (const FrameError& e) {
        CHECK_MESSAGE(std::string_view(e.what()).find(part) != std::string_view::npos, e.what());
    }
}

const Hello some_hello{.max_streams = 256, .window = 64 * 1024};

TEST_CASE("multiplex frame: known bytes for each type, written from the header's table") {
    // type | stream | length | payload
    CHECK(encoded([](Bytes& o) { encode_hello(o, some_hello); }) == hex("00 00000000 0009 01 00000100 00010000"));
    CHECK(encoded([](Bytes& o) { encode_open(o, 1); }) == hex("01 00000001 0000"));
    CHECK(encoded([](Bytes& o) { encode_data(o, 0x01020304, authchain::as_bytes("hi")); }) ==
          hex("02 01020304 0002 6869"));
    CHECK(encoded([](Bytes& o) { encode_window(o, 7, 0x10000); }) == hex("03 00000007 0004 00010000"));
    CHECK(encoded([](Bytes& o) { encode_fin(o, 0xfffffffe); }) == hex("04 FFFFFFFE 0000"));
    CHECK(encoded([](Bytes& o) { encode_goaway(o); }) == hex("06 00000000 0000"));
    CHECK(only_frame(hex("06 00000000 0000")).type == FrameType::goaway);
    CHECK(encoded([](Bytes& o) { encode_reset(o, 7, ResetReason::refused); }) ==
          hex("05 00000007 0001 01"));

    const Bytes hello = hex("00 00000000 0009 01 00000100 00010000");
    const Frame h = only_frame(hello);
    CHECK(h.type == FrameType::hello);
    CHECK(h.stream == 0);
    CHECK(h.hello == some_hello);
    const Bytes data = hex("02 01020304 0002 6869");
    const Frame d = only_frame(data);
    CHECK(d.type == FrameType::data);
    CHECK(d.stream == 0x01020304);
    CHECK(authchain::as_text(d.payload) == "hi");
    const Bytes window = hex("03 00000007 0004 00010000");
    CHECK(only_frame(window).increment == 0x10000);
    const Bytes reset = hex("05 00000007 0001 01");
    CHECK(only_frame(reset).reason == ResetReason::refused);
}

TEST_CASE("multiplex frame: every type round-trips with its exact size") {
    const Bytes chunk(mux::max_data, 0x5a);
    struct Case {
        Bytes wire;
        FrameType type;
        std::uint32_t stream;
        std::size_t payload;
    };
    const std::vector<Case> cases = {
        {encoded([](Bytes& o) { encode_hello(o, {.max_streams = 1, .window = mux::min_initial_window}); }),
         FrameType::hello, 0, mux::hello_payload},
        {encoded([](Bytes& o) { encode_hello(o, {.max_streams = mux::max_streams_limit, .window = mux::max_initial_window}); }),
         FrameType::hello, 0, mux::hello_payload},
        {encoded([](Bytes& o) { encode_open(o, 0xffffffff); }), FrameType::open, 0xffffffff, 0},
        {encoded([](Bytes& o) { encode_data(o, 3, Bytes{9}); }), FrameType::data, 3, 1},
        {encoded([&](Bytes& o) { encode_data(o, 3, chunk); }), FrameType::data, 3, mux::max_data},
        {encoded([](Bytes& o) { encode_window(o, 5, 1); }), FrameType::window, 5, 4},
        {encoded([](Bytes& o) { encode_window(o, 5, mux::max_window_limit); }), FrameType::window, 5, 4},
        {encoded([](Bytes& o) { encode_fin(o, 2); }), FrameType::fin, 2, 0},
        {encoded([](Bytes& o) { encode_reset(o, 4, ResetReason::aborted); }), FrameType::reset, 4, 1},
        {encoded([](Bytes& o) { encode_reset(o, 4, ResetReason::refused); }), FrameType::reset, 4, 1},
    };
    for (const auto& c : cases) {
        CAPTURE(mux::to_string(c.type));
        REQUIRE(c.wire.size() == mux::frame_header + c.payload);
        const Frame f = only_frame(c.wire);
        CHECK(f.type == c.type);
        CHECK(f.stream == c.stream);
    }
    CHECK(only_frame(cases[0].wire).hello == Hello{.max_streams = 1, .window = mux::min_initial_window});
    CHECK(only_frame(cases[1].wire).hello ==
          Hello{.max_streams = mux::max_streams_limit, .window = mux::max_initial_window});
    CHECK(only_frame(cases[3].wire).payload[0] == 9);
    const Frame big = only_frame(cases[4].wire);
    CHECK(Bytes(big.payload.begin(), big.payload.end()) == chunk);
    CHECK(only_frame(cases[5].wire).increment == 1);
    CHECK(only_frame(cases[6].wire).increment == mux::max_window_limit);
    CHECK(only_frame(cases[8].wire).reason == ResetReason::aborted);
    CHECK(only_frame(cases[9].wire).reason == ResetReason::refused);
}

TEST_CASE("multiplex frame: a valid frame cut short anywhere is incomplete, not an error") {
    const std::vector<Bytes> frames = {
        encoded([](Bytes& o) { encode_hello(o, some_hello); }),
        encoded([](Bytes& o) { encode_open(o, 1); }),
        encoded([](Bytes& o) { encode_data(o, 1, Bytes(300, 1)); }),
        encoded([](Bytes& o) { encode_window(o, 1, 1000); }),
        encoded([](Bytes& o) { encode_fin(o, 1); }),
        encoded([](Bytes& o) { encode_reset(o, 1, ResetReason::refused); }),
    };
    for (const Bytes& wire : frames) {
        for (std::size_t n = 0; n < wire.size(); ++n) {
            CAPTURE(n);
            CHECK_FALSE(decode_frame(ByteView(wire).first(n)));
        }
        CHECK(decode_frame(wire));
    }
}

TEST_CASE("multiplex frame: an unknown type is refused") {
    refused(hex("07 00000000 0000"), "multiplex: unknown frame type 7");
    refused(hex("09 00000001 0000"), "multiplex: unknown frame type 9");
    refused(hex("FF 00000000 0009"), "unknown frame type 255");
}

TEST_CASE("multiplex frame: a stream id that does not fit the type is refused, from the header alone") {
    refused(hex("00 00000001 0009"), "multiplex: hello frame on stream 1 (must be 0)");
    refused(hex("00 FFFFFFFF 0009"), "hello frame on stream 4294967295");
    refused(hex("01 00000000 0000"), "multiplex: open frame on stream 0");
    refused(hex("02 00000000 0001"), "multiplex: data frame on stream 0");
    refused(hex("03 00000000 0004"), "multiplex: window frame on stream 0");
    refused(hex("04 00000000 0000"), "multiplex: fin frame on stream 0");
    refused(hex("05 00000000 0001"), "multiplex: reset frame on stream 0");
    refused(hex("06 00000001 0000"), "multiplex: goaway frame on stream 1 (must be 0)");
}

TEST_CASE("multiplex frame: each type's wrong lengths are refused, from the header alone") {
    refused(hex("00 00000000 0008"), "multiplex: hello frame of 8 bytes (must be 9)");
    refused(hex("00 00000000 000A"), "multiplex: hello frame of 10 bytes (must be 9)");
    refused(hex("01 00000001 0001"), "multiplex: open frame of 1 byte (must be 0)");
    refused(hex("02 00000001 0000"), "multiplex: data frame of 0 bytes (at least 1)");
    refused(hex("03 00000001 0003"), "multiplex: window frame of 3 bytes (must be 4)");
    refused(hex("03 00000001 0005"), "multiplex: window frame of 5 bytes (must be 4)");
    refused(hex("04 00000001 0001"), "multiplex: fin frame of 1 byte (must be 0)");
    refused(hex("05 00000001 0000"), "multiplex: reset frame of 0 bytes (must be 1)");
    refused(hex("05 00000001 0002"), "multiplex: reset frame of 2 bytes (must be 1)");
    refused(hex("06 00000000 0001"), "multiplex: goaway frame of 1 byte (must be 0)");
}

TEST_CASE("multiplex frame: an oversized data frame is refused from its 7-byte header") {
    refused(hex("02 00000001 4E20"), "multiplex: data frame of 20000 bytes (at most 16384)");
    refused(hex("02 00000001 4001"), "multiplex: data frame of 16385 bytes (at most 16384)");
    refused(hex("02 00000001 FFFF"), "multiplex: data frame of 65535 bytes (at most 16384)");
    // The largest allowed waits for its payload.
    CHECK_FALSE(decode_frame(hex("02 00000001 4000")));
}

TEST_CASE("multiplex frame: window increments of 0 and 2^31 are refused") {
    refused(hex("03 00000001 0004 00000000"), "multiplex: window increment 0 out of range 1..2147483647");
    refused(hex("03 00000001 0004 80000000"), "multiplex: window increment 2147483648 out of range");
    refused(hex("03 00000001 0004 FFFFFFFF"), "window increment 4294967295 out of range");
    CHECK(only_frame(hex("03 00000001 0004 7FFFFFFF")).increment == 0x7fffffff);
}

TEST_CASE("multiplex frame: an unknown reset reason is refused") {
    refused(hex("05 00000001 0001 02"), "multiplex: unknown reset reason 2");
    refused(hex("05 00000001 0001 03"), "multiplex: unknown reset reason 3");
    refused(hex("05 00000001 0001 FF"), "multiplex: unknown reset reason 255");
    CHECK(only_frame(hex("05 00000001 0001 00")).reason == ResetReason::aborted);
    CHECK(mux::to_string(ResetReason::aborted) == "aborted");
    CHECK(mux::to_string(ResetReason::refused) == "refused");
}

TEST_CASE("multiplex frame: a hello of another version or with values out of range is refused") {
    // version | max_streams | window
    refused(hex("00 00000000 0009 02 00000100 00010000"), "multiplex: hello version 2 (expected 1)");
    refused(hex("00 00000000 0009 00 00000100 00010000"), "multiplex: hello version 0 (expected 1)");
    refused(hex("00 00000000 0009 01 00000000 00010000"), "multiplex: hello max_streams 0 out of range 1..1048576");
    refused(hex("00 00000000 0009 01 00100001 00010000"), "multiplex: hello max_streams 1048577 out of range");
    refused(hex("00 00000000 0009 01 FFFFFFFF 00010000"), "hello max_streams 4294967295 out of range");
    refused(hex("00 00000000 0009 01 00000100 00003FFF"),
            "multiplex: hello window 16383 out of range 16384..16777216");
    refused(hex("00 00000000 0009 01 00000100 01000001"), "multiplex: hello window 16777217 out of range");
    refused(hex("00 00000000 0009 01 00000100 00000000"), "hello window 0 out of range");
    // The bounds themselves are accepted.
    CHECK(only_frame(hex("00 00000000 0009 01 00000001 00004000")).hello ==
          Hello{.max_streams = 1, .window = 16 * 1024});
    CHECK(only_frame(hex("00 00000000 0009 01 00100000 01000000")).hello ==
          Hello{.max_streams = 1 << 20, .window = 16 * 1024 * 1024});
}

TEST_CASE("multiplex frame: the encoders refuse what the decoder refuses, and append nothing") {
    Bytes out = {0xaa};
    auto throws = [&](auto encode, std::string_view part) {
        try {
            encode();
            FAIL("encoded, expected std::invalid_argument: ", part);
        } catch (const std::invalid_argument& e) {
            CHECK_MESSAGE(std::string_view(e.what()).find(part) != std::string_view::npos, e.what());
        }
        CHECK(out == Bytes{0xaa});
    };
    throws([&] { encode_hello(out, {.max_streams = 0, .window = 65536}); }, "hello max_streams 0 out of range");
    throws([&] { encode_hello(out, {.max_streams = mux::max_streams_limit + 1, .window = 65536}); },
           "hello max_streams 1048577 out of range");
    throws([&] { encode_hello(out, {.max_streams = 1, .window = mux::min_initial_window - 1}); },
           "hello window 16383 out of range");
    throws([&] { encode_hello(out, {.max_streams = 1, .window = mux::max_initial_window + 1}); },
           "hello window 16777217 out of range");
    throws([&] { encode_open(out, 0); }, "open frame on stream 0");
    throws([&] { encode_data(out, 0, Bytes{1}); }, "data frame on stream 0");
    throws([&] { encode_data(out, 1, ByteView{}); }, "data frame of 0 bytes (at least 1)");
    throws([&] { encode_data(out, 1, Bytes(mux::max_data + 1, 0)); }, "data frame of 16385 bytes (at most 16384)");
    throws([&] { encode_data(out, 1, Bytes(70000, 0)); }, "data frame of 70000 bytes (at most 16384)");
    throws([&] { encode_window(out, 0, 1); }, "window frame on stream 0");
    throws([&] { encode_window(out, 1, 0); }, "window increment 0 out of range");
    throws([&] { encode_window(out, 1, 0x80000000); }, "window increment 2147483648 out of range");
    throws([&] { encode_fin(out, 0); }, "fin frame on stream 0");
    throws([&] { encode_reset(out, 0, ResetReason::aborted); }, "reset frame on stream 0");
    throws([&] { encode_reset(out, 1, static_cast<ResetReason>(3)); }, "unknown reset reason 3");
}

TEST_CASE("multiplex frame: frames back to back decode in order, and a partial last one waits") {
    Bytes wire;
    encode_hello(wire, some_hello);
    encode_open(wire, 1);
    encode_data(wire, 1, authchain::as_bytes("abc"));
    encode_window(wire, 1, 100);
    encode_fin(wire, 1);
    encode_reset(wire, 3, ResetReason::refused);
    encode_data(wire, 3, authchain::as_bytes("tail"));
    wire.pop_back();

    std::vector<FrameType> types;
    std::vector<std::uint32_t> streams;
    ByteView rest = wire;
    while (auto decoded = decode_frame(rest)) {
        const Frame& f = decoded->first;
        types.push_back(f.type);
        streams.push_back(f.stream);
        if (f.type == FrameType::hello) CHECK(f.hello == some_hello);
        if (f.type == FrameType::data) CHECK(authchain::as_text(f.payload) == "abc");
        if (f.type == FrameType::window) CHECK(f.increment == 100);
        if (f.type == FrameType::reset) CHECK(f.reason == ResetReason::refused);
        rest = rest.subspan(decoded->second);
    }
    CHECK(types == std::vector<FrameType>{FrameType::hello, FrameType::open, FrameType::data, FrameType::window,
                                          FrameType::fin, FrameType::reset});
    CHECK(streams == std::vector<std::uint32_t>{0, 1, 1, 1, 1, 3});
    CHECK(rest.size() == mux::frame_header + 3);  // the cut data frame
}

TEST_CASE("multiplex frame: the types have names") {
    CHECK(mux::to_string(FrameType::hello) == "hello");
    CHECK(mux::to_string(FrameType::open) == "open");
    CHECK(mux::to_string(FrameType::data) == "data");
    CHECK(mux::to_string(FrameType::window) == "window");
    CHECK(mux::to_string(FrameType::fin) == "fin");
    CHECK(mux::to_string(FrameType::reset) == "reset");
}

}  // namespace multiplex_frame_test
