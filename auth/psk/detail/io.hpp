// The steps both sides of psk share: the channel binding (step 0 in
// auth/psk.hpp) and fresh nonces. Messages are frames (compose/frame.hpp).
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>

#include <authchain/auth/psk/detail/messages.hpp>
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>  // read_frame: every message is a frame
#include <authchain/compose/stream.hpp>

namespace authchain {

// Step 0: the channel id the proofs cover. protocol_error on an encrypted
// stream without one, or on a plain stream unless allow_plaintext.
Bytes psk_channel_binding(const Stream& stream, bool allow_plaintext);

// 32 bytes from the system RNG.
PskNonce fresh_psk_nonce();

}  // namespace authchain
