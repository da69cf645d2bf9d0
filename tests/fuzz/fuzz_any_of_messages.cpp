// Fuzzes the decoders of any_of's negotiation messages (A1..A4) and the
// frame header; a decoded message must encode back to the same bytes.
#include <array>
#include <cstdint>

#include <authchain/compose/detail/any_of_messages.hpp>
#include <authchain/compose/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    using namespace authchain::detail;
    ByteView input(data, size);
    auto same = [&](const Bytes& frame) {
        if (frame.size() != size + 4 || !std::equal(frame.begin() + 4, frame.end(), input.begin())) __builtin_trap();
    };
    if (size >= 4) {
        try {
            (void)frame_length({data[0], data[1], data[2], data[3]}, max_any_of_message, "frame");
        } catch (const AuthenticationError&) {
        }
    }
    try {
        same(encode_offer(decode_offer(input)));
    } catch (const AuthenticationError&) {
    }
    try {
        same(encode_choice(decode_choice(input)));
    } catch (const AuthenticationError&) {
    }
    try {
        same(encode_server_verdict(decode_server_verdict(input)));
    } catch (const AuthenticationError&) {
    }
    try {
        same(encode_client_verdict(decode_client_verdict(input)));
    } catch (const AuthenticationError&) {
    }
    (void)bound_channel_id(input, input);
    return 0;
}
