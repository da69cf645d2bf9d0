// The steps both sides of password share: step 0's checks on the stream.
// Messages are frames (compose/frame.hpp; a P1 is read with
// read_secret_frame), bodies encoded in auth/password/detail/messages.hpp.
#pragma once

#include <asio/awaitable.hpp>
#include <botan/secmem.h>
#include <cstdint>
#include <string_view>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>  // read_frame: every message is a frame
#include <authchain/compose/stream.hpp>

namespace authchain {

// The stream's channel id; denies protocol_error ("password needs a channel
// id: put secure_channel before it") when it has none.
Bytes require_password_channel_id(const Stream& stream);

// Denies (denied) a stream that is not confidential, unless `allow_plaintext`;
// `who` starts the detail ("password", "refusing to send the password").
void require_confidential(const Stream& stream, bool allow_plaintext, std::string_view who);

}  // namespace authchain
