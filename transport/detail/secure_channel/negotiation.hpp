// Suite negotiation messages of the secure channel (see secure_channel.md):
//
//   C1 = offer || frame(Noise message 1 for the client's first suite)
//   S1 = choice || frame(Noise message 2)      when choice is the first offer
//   S1 = choice                                otherwise; then C2 and S2
//   offer  = "ACSC" | version | n (1..16) | n suite ids
//   choice = "ACSC" | version | chosen suite id (0: no common suite)
//
// Pure parsers (no I/O): given the bytes received so far they return
// nullopt when more are needed, the message and its size once complete,
// and throw AuthenticationError(protocol_error) as soon as the bytes cannot
// be a valid message (a non-authchain peer is refused after 5 bytes).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/transport/detail/noise/suite.hpp>

namespace authchain::channel {

inline constexpr std::array<std::uint8_t, 4> magic{'A', 'C', 'S', 'C'};
inline constexpr std::uint8_t protocol_version = 1;
inline constexpr std::size_t max_offered_suites = 16;
inline constexpr std::uint8_t no_common_suite = 0;
// The fixed text that starts every prologue.
inline constexpr std::string_view prologue_label = "authchain secure channel v1";

// One-byte wire id: cipher in the high nibble (1 ChaChaPoly, 2 AESGCM),
// hash in the low nibble (1 SHA256, 2 SHA512, 3 BLAKE2b).
std::uint8_t suite_id(noise::Suite suite);
std::optional<noise::Suite> suite_from_id(std::uint8_t id);

// The offer bytes for `suites` (1..16 of them, in preference order).
Bytes encode_offer(std::span<const noise::Suite> suites);
// The choice bytes.
Bytes encode_choice(std::uint8_t chosen_id);
// A 2-byte big-endian length then `message` (at most 65535 bytes).
Bytes frame(ByteView message);

struct ClientHello {                 // C1
    Bytes offer;                     // exactly as received: goes into the prologue
    std::vector<std::uint8_t> ids;   // offered ids in the client's order (unknown ids kept)
    Bytes message;                   // Noise message 1 for ids[0]
};

struct ServerHello {                 // S1
    Bytes choice;                    // exactly as received: goes into the retry prologue
    std::uint8_t chosen = 0;
    std::optional<Bytes> message;    // Noise message 2, iff chosen == the first offered id
};

template <class T>
struct Parsed {
    T value;
    std::size_t size;  // bytes the message took
};

std::optional<Parsed<ClientHello>> parse_client_hello(ByteView input);
// `first_offered` is the id the client put first: it decides whether a
// Noise message follows the choice.
std::optional<Parsed<ServerHello>> parse_server_hello(ByteView input, std::uint8_t first_offered);
// A framed handshake message (C2, S2); an empty frame is refused.
std::optional<Parsed<Bytes>> parse_frame(ByteView input);

// The server's pick: the first of `preference` that the client offered;
// no_common_suite if none.
std::uint8_t choose_suite(std::span<const noise::Suite> preference, std::span<const std::uint8_t> offered);

// Prologue of the first handshake: label || offer. Of the retried
// handshake: label || offer || choice.
Bytes make_prologue(ByteView offer, ByteView choice = {});

}  // namespace authchain::channel
