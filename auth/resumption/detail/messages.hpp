// The resumption protocol's messages (R1, R2, R3; see auth/resumption.hpp)
// and its proofs, as pure functions so they can be fuzzed and tested by
// known answers.
//
// Framing: uint32 length || body (1..max_resumption_message), body = byte type || fields.
//     R1 body: byte 1 || byte 0 (full)
//              byte 1 || byte 1 (resume) || T[32] || proof_c[32]
//     R2 body: byte 2 || byte 0 (resumed) || proof_s[32]
//              byte 2 || byte 1 (unknown ticket: the full path follows)
//              byte 2 || byte 3 (denied)
//     R3 body: byte 3 || uint32 lifetime seconds (1..86400) || T[32] || S[32]
#pragma once

#include <botan/secmem.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include <authchain/auth/detail/hmac_proof.hpp>  // hmac_proofs_equal compares them
#include <authchain/compose/bytes.hpp>

namespace authchain {

inline constexpr std::size_t max_resumption_message = 128;
inline constexpr std::size_t resumption_id_size = 32;
inline constexpr std::size_t resumption_secret_size = 32;
inline constexpr std::size_t resumption_proof_size = hmac_proof_size;

using TicketId = std::array<std::uint8_t, resumption_id_size>;
using TicketSecret = Botan::secure_vector<std::uint8_t>;  // resumption_secret_size bytes
using ResumptionProof = HmacProof;

enum class ResumptionMessage : std::uint8_t { r1_hello = 1, r2_verdict = 2, r3_ticket = 3 };
enum class ResumptionRole { client, server };
enum class ResumptionVerdict : std::uint8_t { resumed = 0, unknown = 1, denied = 3 };

struct ResumptionR1 {
    // Set: resume with this ticket; empty: the full path.
    struct Resume {
        TicketId id{};
        ResumptionProof proof{};
    };
    std::optional<Resume> resume;
};

struct ResumptionR2 {
    ResumptionVerdict verdict = ResumptionVerdict::unknown;
    ResumptionProof proof{};  // resumed only; zero otherwise
};

struct ResumptionR3 {
    std::uint32_t lifetime_seconds = 0;
    TicketId id{};
    TicketSecret secret;
};

// HMAC-SHA256(secret, string label(role) || string channel_id || string id).
ResumptionProof resumption_proof(const TicketSecret& secret, ResumptionRole role, ByteView channel_id,
                                 const TicketId& id);

// Whole frames (length prefix included).
Bytes encode_resumption_r1(const ResumptionR1& r1);
Bytes encode_resumption_r2(const ResumptionR2& r2);
Bytes encode_resumption_r3(const ResumptionR3& r3);

// Decode a body. Throw AuthenticationError(protocol_error) on a wrong type,
// a wrong size, an unknown mode or verdict, a lifetime out of range or
// trailing bytes.
ResumptionR1 decode_resumption_r1(ByteView body);
ResumptionR2 decode_resumption_r2(ByteView body);
ResumptionR3 decode_resumption_r3(ByteView body);

}  // namespace authchain
