// The steps both sides of public_key share: the channel id the proofs sign
// and the key a proof carries. Messages are frames (compose/frame.hpp),
// bodies encoded in auth/public_key/detail/messages.hpp.
#pragma once

#include <asio/awaitable.hpp>
#include <string_view>

#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>  // read_frame: every message is a frame
#include <authchain/compose/stream.hpp>

namespace authchain {

// Step 0: the stream's channel id; denies protocol_error ("public_key needs
// a channel id: put secure_channel before it") when it has none.
Bytes require_channel_id(const Stream& stream);

// The public key of an S1 or C1 proof; a blob that is no usable key is a
// protocol_error denial "<what>: unusable <whose> key: ..." ("S1", "host").
openssh::PublicKey key_of(const KeyProof& proof, std::string_view what, std::string_view whose);

}  // namespace authchain
