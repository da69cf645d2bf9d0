#include <authchain/auth/public_key/detail/messages.hpp>

#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

namespace {

constexpr std::string_view host_label = "authchain public_key host v1";
constexpr std::string_view user_label = "authchain public_key user v1";
constexpr std::string_view user_cert_label = "authchain public_key user-cert v1";

Bytes encode_proof(PublicKeyMessage type, const KeyProof& proof) {
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(type)).string(ByteView(proof.key_blob)).string(ByteView(proof.signature));
    if (proof.user) body.string(*proof.user);
    return frame(body);
}

KeyProof decode_proof(PublicKeyMessage type, ByteView body, std::string_view what) {
    try {
        openssh::WireReader in(body);
        const std::uint8_t got = in.u8();
        if (type == PublicKeyMessage::c1_user_proof && got == static_cast<std::uint8_t>(PublicKeyMessage::s1_host_proof))
            deny(DenyReason::protocol_error, "C1: the peer sent S1: it runs public_key's server side too "
                                             "(a server layer in the client's chain?)");
        if (got != static_cast<std::uint8_t>(type)) deny(DenyReason::protocol_error, std::string(what) + ": unexpected message type");
        ByteView key = in.string();
        ByteView signature = in.string();
        std::optional<std::string> user;
        if (!in.empty() && type == PublicKeyMessage::c1_user_proof) {
            std::string_view u = in.text();
            if (u.empty() || u.size() > max_claimed_user)
                deny(DenyReason::protocol_error, std::string(what) + ": claimed user empty or too long");
            user = std::string(u);
        }
        in.expect_end(what);
        if (key.empty() || signature.empty()) deny(DenyReason::protocol_error, std::string(what) + ": empty key or signature");
        return {Bytes(key.begin(), key.end()), Bytes(signature.begin(), signature.end()), std::move(user)};
    } catch (const openssh::FormatError& e) {
        deny(DenyReason::protocol_error, std::string(what) + ": " + e.what());
    }
}

}  // namespace

Bytes host_signed_data(ByteView channel_id) {
    openssh::WireWriter w;
    w.string(host_label).string(channel_id);
    return w.bytes();
}

Bytes user_signed_data(ByteView channel_id, ByteView host_key_blob) {
    openssh::WireWriter w;
    w.string(user_label).string(channel_id).string(host_key_blob);
    return w.bytes();
}

Bytes user_cert_signed_data(ByteView channel_id, ByteView host_key_blob, std::string_view user,
                            ByteView certificate_blob) {
    openssh::WireWriter w;
    w.string(user_cert_label).string(channel_id).string(host_key_blob).string(user).string(certificate_blob);
    return w.bytes();
}

Bytes encode_s1(const KeyProof& proof) { return encode_proof(PublicKeyMessage::s1_host_proof, proof); }
Bytes encode_c1(const KeyProof& proof) { return encode_proof(PublicKeyMessage::c1_user_proof, proof); }

Bytes encode_s2(bool accepted) {
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(PublicKeyMessage::s2_verdict))
        .u8(accepted ? 0 : static_cast<std::uint8_t>(DenyReason::denied));
    return frame(body);
}

KeyProof decode_s1(ByteView body) { return decode_proof(PublicKeyMessage::s1_host_proof, body, "S1"); }
KeyProof decode_c1(ByteView body) { return decode_proof(PublicKeyMessage::c1_user_proof, body, "C1"); }

bool decode_s2(ByteView body) {
    if (body.size() != 2 || body[0] != static_cast<std::uint8_t>(PublicKeyMessage::s2_verdict))
        deny(DenyReason::protocol_error, "S2: malformed verdict");
    if (body[1] == 0) return true;
    if (body[1] == static_cast<std::uint8_t>(DenyReason::denied)) return false;
    deny(DenyReason::protocol_error, "S2: unknown verdict " + std::to_string(body[1]));
}

}  // namespace authchain
