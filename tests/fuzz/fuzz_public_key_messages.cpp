// Fuzzes the decoders of the public_key protocol messages (S1, C1, S2) and
// the frame header, as a peer would send them.
#include <array>
#include <cstdint>

#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/compose/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    ByteView input(data, size);
    if (size >= 4) {
        try {
            (void)frame_length({data[0], data[1], data[2], data[3]}, max_public_key_message, "fuzz");
        } catch (const AuthenticationError&) {
        }
    }
    for (auto decode : {decode_s1, decode_c1}) {
        try {
            KeyProof proof = decode(input);
            // What each side does next with a well-formed proof.
            auto key = openssh::PublicKey::from_blob(proof.key_blob);
            (void)key.verify(host_signed_data(input), proof.signature);
        } catch (const AuthenticationError&) {
        } catch (const openssh::FormatError&) {
        }
    }
    try {
        (void)decode_s2(input);
    } catch (const AuthenticationError&) {
    }
    return 0;
}
