// Fuzzes the decoders of the psk protocol messages (S1, C1, S2) and the
// frame header, as a peer would send them, then what each side does next.
#include <array>
#include <cstdint>

#include <authchain/auth/psk/detail/messages.hpp>
#include <authchain/compose/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    ByteView input(data, size);
    if (size >= 4) {
        try {
            (void)frame_length({data[0], data[1], data[2], data[3]}, max_psk_message, "fuzz");
        } catch (const AuthenticationError&) {
        }
    }
    static const Botan::secure_vector<std::uint8_t> key(32, 0x42);
    try {
        PskNonce ns = decode_psk_s1(input);
        (void)encode_psk_s1(ns);
    } catch (const AuthenticationError&) {
    }
    try {
        PskC1 c1 = decode_psk_c1(input);
        PskProof expected = psk_proof(key, PskRole::client, input, c1.key_id, PskNonce{}, c1.client_nonce);
        (void)hmac_proofs_equal(expected, c1.proof);
        (void)encode_psk_c1(c1);
    } catch (const AuthenticationError&) {
    }
    try {
        PskS2 s2 = decode_psk_s2(input);
        (void)encode_psk_s2(s2);
    } catch (const AuthenticationError&) {
    }
    return 0;
}
