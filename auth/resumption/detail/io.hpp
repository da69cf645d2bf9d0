// What both sides of resumption share: the channel binding and the tickets'
// facts (auth/resumption.hpp). Messages are frames (compose/frame.hpp).
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>

#include <authchain/auth/resumption/detail/messages.hpp>
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>  // read_frame: every message is a frame
#include <authchain/compose/session.hpp>

namespace authchain {

inline constexpr std::string_view resumption_layer = "resumption";

// Step 0: the channel id the proofs cover. protocol_error on a stream that
// is not confidential or has no channel id.
Bytes resumption_channel_binding(const Stream& stream);

// After the layers a full handshake ran: internal_error when they changed
// the stream (its channel id is no longer `channel_id`), since a ticket
// cannot stand in for a transport layer.
void require_same_channel(const Session& session, ByteView channel_id);

}  // namespace authchain
