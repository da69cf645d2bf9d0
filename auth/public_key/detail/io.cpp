#include <authchain/auth/public_key/detail/io.hpp>

#include <array>
#include <asio/buffer.hpp>

#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

Bytes require_channel_id(const Stream& stream) {
    Bytes channel_id = stream.protection().channel_id;
    if (channel_id.empty())
        deny(DenyReason::protocol_error, "public_key needs a channel id: put secure_channel before it");
    return channel_id;
}

openssh::PublicKey key_of(const KeyProof& proof, std::string_view what, std::string_view whose) {
    try {
        return openssh::PublicKey::from_blob(proof.key_blob);
    } catch (const openssh::FormatError& e) {
        deny(DenyReason::protocol_error,
             std::string(what) + ": unusable " + std::string(whose) + " key: " + e.what());
    }
}

}  // namespace authchain
