// The public_key protocol's messages (S1, C1, S2; see auth/public_key.hpp),
// encoded and decoded by pure functions so they can be fuzzed (reading a
// frame from a Stream is in auth/public_key/detail/io.hpp).
//
// Framing: every message is  uint32 length || body  (big-endian length of
// the body, 1..max_public_key_message), body = byte type || fields, fields
// in SSH wire encoding (RFC 4251: string = uint32 length || bytes).
//     S1 body: byte 1 || string host_key_blob || string signature
//     C1 body: byte 2 || string user_key_blob || string signature
//              [|| string user]   (present exactly when user_key_blob is an
//              OpenSSH certificate: the principal the client claims)
//     S2 body: byte 3 || byte verdict   (0 = accepted, 3 = denied)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>

namespace authchain {

inline constexpr std::size_t max_public_key_message = 16 * 1024;

enum class PublicKeyMessage : std::uint8_t { s1_host_proof = 1, c1_user_proof = 2, s2_verdict = 3 };

// S1 and C1: a public key blob and an SSH signature blob made with its key.
struct KeyProof {
    Bytes key_blob;
    Bytes signature;
    std::optional<std::string> user;  // C1 with a certificate only
    bool operator==(const KeyProof&) const = default;
};

// What the host key signs: string "authchain public_key host v1" || string channel_id.
Bytes host_signed_data(ByteView channel_id);
// What the user key signs: string "authchain public_key user v1" ||
// string channel_id || string host_key_blob.
Bytes user_signed_data(ByteView channel_id, ByteView host_key_blob);
// What the certified key signs when C1 carries a certificate: string
// "authchain public_key user-cert v1" || string channel_id ||
// string host_key_blob || string user || string certificate_blob.
Bytes user_cert_signed_data(ByteView channel_id, ByteView host_key_blob, std::string_view user,
                            ByteView certificate_blob);

// Bound on the claimed user name in C1.
inline constexpr std::size_t max_claimed_user = 256;

// Whole frames (length prefix included), ready to write.
Bytes encode_s1(const KeyProof& proof);
Bytes encode_c1(const KeyProof& proof);
Bytes encode_s2(bool accepted);


// Decode a body (without the length prefix). Throw
// AuthenticationError(protocol_error) on a wrong type byte, a field running
// past the end, an empty key or signature, trailing bytes, or (S2) an
// unknown verdict, (C1) an empty or overlong user, or a user in S1.
// decode_s2 returns true for accepted, false for denied.
KeyProof decode_s1(ByteView body);
KeyProof decode_c1(ByteView body);
bool decode_s2(ByteView body);

}  // namespace authchain
