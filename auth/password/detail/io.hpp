// The steps both sides of password share: step 0's checks on the stream,
// and reading one frame (encoding in auth/password/detail/messages.hpp).
#pragma once

#include <asio/awaitable.hpp>
#include <botan/secmem.h>
#include <cstdint>
#include <string_view>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain {

// The stream's channel id; denies protocol_error ("password needs a channel
// id: put secure_channel before it") when it has none.
Bytes require_password_channel_id(const Stream& stream);

// Denies (denied) a stream that is not confidential, unless `allow_plaintext`;
// `who` starts the detail ("password", "refusing to send the password").
void require_confidential(const Stream& stream, bool allow_plaintext, std::string_view who);

// Reads one frame (uint32 length || body) and returns its body, in memory
// that is wiped (a P1 holds a password); the length is checked against
// max_password_message before any allocation. A premature end of stream is
// a protocol_error denial naming `what`.
asio::awaitable<Botan::secure_vector<std::uint8_t>> read_password_message(Stream& stream, std::string_view what);

}  // namespace authchain
