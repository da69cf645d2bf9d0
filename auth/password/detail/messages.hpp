// The password protocol's messages (P1, P2; see auth/password.hpp), encoded
// and decoded by pure functions so they can be fuzzed.
//
// Framing: uint32 length || body (big-endian length of the body,
// 1..max_password_message), body = byte type || fields, fields in SSH wire
// encoding (string = uint32 length || bytes).
//     P1 body: byte 1 || string channel_id || string user || string password
//              || string padding
//     P2 body: byte 2 || byte verdict   (0 = accepted, 1 = busy, 3 = denied)
// The padding (zero bytes) makes the P1 body a multiple of 512 bytes, so
// its record size tells an eavesdropper nothing of the password's length.
#pragma once

#include <botan/secmem.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <authchain/auth/password/user_database.hpp>
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/compose/frame.hpp>

namespace authchain {

inline constexpr std::size_t max_password_message = 2048;
inline constexpr std::size_t password_padding_block = 512;
inline constexpr std::size_t max_password_channel_id = 64;

enum class PasswordMessage : std::uint8_t { p1_login = 1, p2_verdict = 2 };

// What a P1 carries.
struct PasswordLogin {
    Bytes channel_id;
    std::string user;
    userdb::Secret password;
};

// The whole P1 frame (length prefix included), in memory that is wiped.
// Throws std::invalid_argument when a field is out of bounds (empty or
// longer than max_password_channel_id, an invalid user name, a password
// empty or longer than userdb::max_password).
Botan::secure_vector<std::uint8_t> encode_p1(ByteView channel_id, std::string_view user,
                                             std::string_view password);
// The whole P2 frame. `verdict` is nullopt for accepted, else busy or denied.
Bytes encode_p2(std::optional<DenyReason> verdict);


// Decode a body (without the length prefix). Throw
// AuthenticationError(protocol_error) on a wrong type byte, a field running
// past the end, trailing bytes, a field out of the bounds of encode_p1, or
// (P2) an unknown verdict. decode_p2 returns nullopt for accepted, else
// busy or denied.
PasswordLogin decode_p1(ByteView body);
std::optional<DenyReason> decode_p2(ByteView body);

}  // namespace authchain
