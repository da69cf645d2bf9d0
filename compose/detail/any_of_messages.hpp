// any_of's messages (A1..A4, compose/any_of.hpp), as pure functions.
// Framing: uint32 length || body (1..max_any_of_message), body = byte type || fields.
//     A1 offer:          byte 0x41 || byte attempts_left || byte n || n * (byte len || name)
//     A2 choice:         byte 0x42 || byte len || name      (len 0: no common method)
//     A3 server verdict: byte 0x43 || byte verdict || byte attempts_left
//     A4 client verdict: byte 0x44 || byte verdict          (verdict: 0 accepted, 3 denied)
// The type bytes are outside the ranges the methods use, so a frame out of
// place is refused by whichever side reads it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>

namespace authchain::detail {

inline constexpr std::size_t max_any_of_message = 1024;
inline constexpr std::size_t max_any_of_methods = 16;
inline constexpr std::size_t max_method_name = 32;

enum class AnyOfMessage : std::uint8_t { offer = 0x41, choice = 0x42, server_verdict = 0x43, client_verdict = 0x44 };

struct Offer {
    std::uint8_t attempts_left = 0;
    std::vector<std::string> methods;
    bool operator==(const Offer&) const = default;
};

struct Verdict {
    bool accepted = false;
    std::uint8_t attempts_left = 0;  // A3 only
    bool operator==(const Verdict&) const = default;
};

// True for 1..32 of [a-z0-9_.-].
bool valid_method_name(std::string_view name);

// Whole frames (length prefix included).
Bytes encode_offer(const Offer& offer);
Bytes encode_choice(std::string_view method);
Bytes encode_server_verdict(const Verdict& verdict);
Bytes encode_client_verdict(bool accepted);


// Decode a body; AuthenticationError(protocol_error) on anything malformed:
// a wrong type, a bad name or count, an unknown verdict, trailing bytes.
Offer decode_offer(ByteView body);
std::string decode_choice(ByteView body);
Verdict decode_server_verdict(ByteView body);
bool decode_client_verdict(ByteView body);

// SHA-256(string "authchain any_of v1" || string channel_id || string
// transcript): 32 bytes whatever the transcript's length, so a method
// with a bound on the channel id it signs (password: 64 bytes) runs
// inside any_of. (The one hash compose computes; Botan is the library's
// crypto, DESIGN rule 1.)
Bytes bound_channel_id(ByteView channel_id, ByteView transcript);

}  // namespace authchain::detail
