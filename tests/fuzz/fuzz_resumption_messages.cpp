// Fuzzes the decoders of the resumption protocol messages (R1, R2, R3) and
// the frame header, as a peer would send them, then what each side does
// next with what decoded: the proof check against a kept secret, and the
// encoder, which must give back the very bytes it decoded.
#include <algorithm>
#include <cstdint>

#include <authchain/auth/resumption/detail/messages.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/compose/frame.hpp>

namespace {
// The body of a whole frame, compared with what was decoded.
bool same_body(const authchain::Bytes& frame, authchain::ByteView body) {
    return frame.size() == body.size() + authchain::frame_header_size &&
           std::equal(body.begin(), body.end(), frame.begin() + authchain::frame_header_size);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    ByteView input(data, size);
    if (size >= 4) {
        try {
            (void)frame_length({data[0], data[1], data[2], data[3]}, max_resumption_message, "fuzz");
        } catch (const AuthenticationError&) {
        }
    }
    static const TicketSecret secret(resumption_secret_size, 0x42);
    try {
        ResumptionR1 r1 = decode_resumption_r1(input);
        if (r1.resume) {
            ResumptionProof expected = resumption_proof(secret, ResumptionRole::client, input, r1.resume->id);
            (void)hmac_proofs_equal(expected, r1.resume->proof);
        }
        if (!same_body(encode_resumption_r1(r1), input)) __builtin_trap();
    } catch (const AuthenticationError&) {
    }
    try {
        ResumptionR2 r2 = decode_resumption_r2(input);
        if (!same_body(encode_resumption_r2(r2), input)) __builtin_trap();
    } catch (const AuthenticationError&) {
    }
    try {
        ResumptionR3 r3 = decode_resumption_r3(input);
        if (r3.lifetime_seconds < 1 || r3.secret.size() != resumption_secret_size) __builtin_trap();
        if (!same_body(encode_resumption_r3(r3), input)) __builtin_trap();
    } catch (const AuthenticationError&) {
    }
    return 0;
}
