// compose/frame.hpp: the length-prefixed messages every authentication
// layer speaks, over the in-memory pipe.
#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include <authchain/compose/frame.hpp>
#include <authchain/transport/pipe.hpp>

#include "support/run.hpp"

using namespace authchain;

namespace {

DenyReason reason_of(auto&& f) {
    try {
        f();
    } catch (const AuthenticationError& e) {
        return e.reason();
    }
    FAIL("no AuthenticationError");
    return DenyReason::denied;
}

}  // namespace

TEST_CASE("frame: big-endian length, then the body; empty and oversized bodies are the caller's bug") {
    Bytes f = frame(Bytes{1, 2, 3});
    CHECK(f == Bytes{0, 0, 0, 3, 1, 2, 3});
    CHECK_THROWS_AS(frame(Bytes{}), std::length_error);
}

TEST_CASE("frame_length: 1..max, anything else is a protocol_error naming the message") {
    CHECK(frame_length({0, 0, 1, 0}, 256, "S1") == 256);
    CHECK(frame_length({0, 0, 0, 1}, 256, "S1") == 1);
    CHECK(reason_of([] { (void)frame_length({0, 0, 1, 1}, 256, "S1"); }) == DenyReason::protocol_error);
    CHECK(reason_of([] { (void)frame_length({0, 0, 0, 0}, 256, "S1"); }) == DenyReason::protocol_error);
    CHECK(reason_of([] { (void)frame_length({0xff, 0xff, 0xff, 0xff}, 256, "S1"); }) == DenyReason::protocol_error);
    try {
        (void)frame_length({0, 0, 1, 1}, 256, "S1");
    } catch (const AuthenticationError& e) {
        CHECK(std::string(e.what()).find("S1: message length 257 out of range 1..256") != std::string::npos);
    }
}

// Writes `wire` into one end of a pipe (then ends it), and reads one frame
// from the other with read_frame, bounded by `max`.
Bytes read_from(Bytes wire, std::size_t max) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<Bytes> {
        auto ends = make_pipe(ex);
        co_await write_all(ends.first, asio::buffer(wire));
        co_await ends.first.shutdown_send();
        co_return co_await read_frame(ends.second, max, "M1");
    });
}

TEST_CASE("read_frame: reads what frame wrote; a cut frame or an oversized length is refused") {
    CHECK(read_from(frame(Bytes{7, 8, 9}), 16) == Bytes{7, 8, 9});
    CHECK(reason_of([] { (void)read_from(Bytes{0x7f, 0xff, 0xff, 0xff}, 1024); }) == DenyReason::protocol_error);
    CHECK(reason_of([] { (void)read_from(Bytes{0, 0, 0, 4, 1, 2}, 1024); }) == DenyReason::protocol_error);
    CHECK(reason_of([] { (void)read_from(Bytes{0, 0}, 1024); }) == DenyReason::protocol_error);
}

TEST_CASE("read_secret_frame: the same frames, into memory that is wiped") {
    Bytes wire = frame(Bytes{4, 5});
    Bytes body = test::run([&](asio::any_io_executor ex) -> asio::awaitable<Bytes> {
        auto ends = make_pipe(ex);
        co_await write_all(ends.first, asio::buffer(wire));
        Botan::secure_vector<std::uint8_t> secret = co_await read_secret_frame(ends.second, 16, "P1");
        co_return Bytes(secret.begin(), secret.end());
    });
    CHECK(body == Bytes{4, 5});
}
