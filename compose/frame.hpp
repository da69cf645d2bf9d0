// Frames: the length-prefixed messages the authentication layers speak.
//
//     frame = uint32 length (big-endian, 1..max) || body
//
// public_key, password, psk and any_of all frame their messages so; a layer
// written as a lambda can use the same three functions:
//
//     co_await write_all(s.stream, asio::buffer(frame(body)));
//     Bytes reply = co_await read_frame(s.stream, 1024, "S1");
//
// The length is checked against the caller's bound before anything is
// allocated, so a peer cannot make the reader hold more than `max` bytes.
#pragma once

#include <array>
#include <asio/awaitable.hpp>
#include <botan/secmem.h>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain {

inline constexpr std::size_t frame_header_size = 4;

// length || body. Throws std::length_error for an empty body or one longer
// than a uint32 can count (a bug in the caller, not the peer's doing).
Bytes frame(ByteView body);

// The body length a header announces; outside 1..max it is a protocol_error
// denial, "WHAT: message length N out of range 1..MAX".
std::size_t frame_length(const std::array<std::uint8_t, frame_header_size>& header, std::size_t max,
                         std::string_view what);

// Reads one frame and returns its body. A premature end of stream or a length
// outside 1..max is a protocol_error denial naming `what`.
asio::awaitable<Bytes> read_frame(Stream& stream, std::size_t max, std::string_view what);
// The same, for a body that holds a secret (a password): it is kept in
// memory that is wiped when freed.
asio::awaitable<Botan::secure_vector<std::uint8_t>> read_secret_frame(Stream& stream, std::size_t max,
                                                                     std::string_view what);

}  // namespace authchain
