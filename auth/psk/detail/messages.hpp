// The psk protocol's messages (S1, C1, S2; see auth/psk.hpp) and the proof,
// as pure functions so they can be fuzzed and tested by known answers.
//
// Framing: uint32 length || body (1..max_psk_message), body = byte type || fields.
//     S1 body: byte 1 || Ns[32]
//     C1 body: byte 2 || string key_id || Nc[32] || proof_c[32]
//     S2 body: byte 3 || byte verdict (0 accepted, 3 denied) || proof_s[32] (accepted only)
#pragma once

#include <botan/secmem.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <authchain/auth/detail/hmac_proof.hpp>  // hmac_proofs_equal compares them
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>

namespace authchain {

inline constexpr std::size_t max_psk_message = 1024;
inline constexpr std::size_t psk_nonce_size = 32;
inline constexpr std::size_t psk_proof_size = hmac_proof_size;

using PskNonce = std::array<std::uint8_t, psk_nonce_size>;
using PskProof = HmacProof;

enum class PskMessage : std::uint8_t { s1_nonce = 1, c1_proof = 2, s2_verdict = 3 };
enum class PskRole { client, server };

struct PskC1 {
    std::string key_id;
    PskNonce client_nonce{};
    PskProof proof{};
};

struct PskS2 {
    bool accepted = false;
    PskProof proof{};  // zero when refused
};

// HMAC-SHA256(key, string label(role) || string channel_id || string key_id
//             || string server_nonce || string client_nonce).
PskProof psk_proof(const Botan::secure_vector<std::uint8_t>& key, PskRole role, ByteView channel_id,
                   std::string_view key_id, const PskNonce& server_nonce, const PskNonce& client_nonce);

// Whole frames (length prefix included).
Bytes encode_psk_s1(const PskNonce& server_nonce);
Bytes encode_psk_c1(const PskC1& c1);
Bytes encode_psk_s2(const PskS2& s2);


// Decode a body. Throw AuthenticationError(protocol_error) on a wrong type,
// a wrong size, an invalid key id, an unknown verdict or trailing bytes.
PskNonce decode_psk_s1(ByteView body);
PskC1 decode_psk_c1(ByteView body);
PskS2 decode_psk_s2(ByteView body);

}  // namespace authchain
