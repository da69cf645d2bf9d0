#include <authchain/auth/password/detail/io.hpp>

#include <array>
#include <asio/buffer.hpp>
#include <string>

#include <authchain/auth/password/detail/messages.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

Bytes require_password_channel_id(const Stream& stream) {
    Bytes channel_id = stream.protection().channel_id;
    if (channel_id.empty())
        deny(DenyReason::protocol_error, "password needs a channel id: put secure_channel before it");
    if (channel_id.size() > max_password_channel_id)
        deny(DenyReason::protocol_error, "password: channel id longer than " +
                                             std::to_string(max_password_channel_id) + " bytes");
    return channel_id;
}

void require_confidential(const Stream& stream, bool allow_plaintext, std::string_view who) {
    Protection p = stream.protection();
    if (p.confidential || allow_plaintext) return;
    deny(DenyReason::denied, std::string(who) + ": the stream is not confidential (transport \"" + p.transport +
                                 "\"): put secure_channel or tls before password, or set allow_plaintext");
}

}  // namespace authchain
