#include <authchain/auth/password/detail/messages.hpp>

#include <stdexcept>

#include <authchain/auth/openssh/detail/wire.hpp>

namespace authchain {

namespace {

constexpr std::uint8_t accepted = 0;

std::string field_error(ByteView channel_id, std::string_view user, std::size_t password_size) {
    if (channel_id.empty() || channel_id.size() > max_password_channel_id)
        return "channel id of " + std::to_string(channel_id.size()) + " bytes (expected 1.." +
               std::to_string(max_password_channel_id) + ")";
    if (auto e = userdb::user_name_error(user); !e.empty()) return e;
    if (password_size == 0) return "empty password";
    if (password_size > userdb::max_password)
        return "password longer than " + std::to_string(userdb::max_password) + " bytes";
    return {};
}

}  // namespace

Botan::secure_vector<std::uint8_t> encode_p1(ByteView channel_id, std::string_view user, std::string_view password) {
    if (auto e = field_error(channel_id, user, password.size()); !e.empty()) throw std::invalid_argument("P1: " + e);
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(PasswordMessage::p1_login)).string(channel_id).string(user).string(password);
    // The padding's own length field counts too.
    std::size_t unpadded = body.data().size() + 4;
    std::size_t padded = (unpadded + password_padding_block - 1) / password_padding_block * password_padding_block;
    body.string(ByteView(Bytes(padded - unpadded, 0)));
    openssh::WireWriter frame;
    frame.u32(static_cast<std::uint32_t>(body.data().size()))
        .raw(ByteView(body.data().data(), body.data().size()));
    return std::move(frame.data());
}

Bytes encode_p2(std::optional<DenyReason> verdict) {
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(PasswordMessage::p2_verdict))
        .u8(verdict ? static_cast<std::uint8_t>(*verdict) : accepted);
    return frame(body.bytes());
}

PasswordLogin decode_p1(ByteView body) {
    try {
        openssh::WireReader in(body);
        if (in.u8() != static_cast<std::uint8_t>(PasswordMessage::p1_login))
            deny(DenyReason::protocol_error, "P1: unexpected message type");
        ByteView channel_id = in.string();
        std::string_view user = in.text();
        ByteView password = in.string();
        (void)in.string();  // padding
        in.expect_end("P1");
        if (auto e = field_error(channel_id, user, password.size()); !e.empty())
            deny(DenyReason::protocol_error, "P1: " + e);
        return {Bytes(channel_id.begin(), channel_id.end()), std::string(user),
                userdb::Secret(password.begin(), password.end())};
    } catch (const openssh::FormatError& e) {
        deny(DenyReason::protocol_error, std::string("P1: ") + e.what());
    }
}

std::optional<DenyReason> decode_p2(ByteView body) {
    if (body.size() != 2 || body[0] != static_cast<std::uint8_t>(PasswordMessage::p2_verdict))
        deny(DenyReason::protocol_error, "P2: malformed verdict");
    if (body[1] == accepted) return std::nullopt;
    if (body[1] == static_cast<std::uint8_t>(DenyReason::denied)) return DenyReason::denied;
    if (body[1] == static_cast<std::uint8_t>(DenyReason::busy)) return DenyReason::busy;
    deny(DenyReason::protocol_error, "P2: unknown verdict " + std::to_string(body[1]));
}

}  // namespace authchain
