// Reading one public_key protocol frame from a Stream (the encoding is in
// auth/public_key/detail/messages.hpp).
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>

#include "compose/bytes.hpp"
#include "compose/stream.hpp"

namespace authchain {

// Reads one frame (uint32 length || body) and returns its body; the length
// is checked against max_public_key_message before any allocation. A
// premature end of stream is a protocol_error denial naming `what`.
asio::awaitable<Bytes> read_public_key_message(Stream& stream, std::string_view what);

}  // namespace authchain
