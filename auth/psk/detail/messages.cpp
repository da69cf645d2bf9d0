#include <authchain/auth/psk/detail/messages.hpp>

#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/auth/psk.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

namespace {

constexpr std::string_view client_label = "authchain psk client v1";
constexpr std::string_view server_label = "authchain psk server v1";

[[noreturn]] void malformed_psk(std::string_view what, std::string_view why) {
    deny(DenyReason::protocol_error, std::string(what) + ": " + std::string(why));
}

void expect_type(openssh::WireReader& in, PskMessage type, std::string_view what) {
    if (in.u8() != static_cast<std::uint8_t>(type)) malformed_psk(what, "unexpected message type");
}

}  // namespace

PskProof psk_proof(const Botan::secure_vector<std::uint8_t>& key, PskRole role, ByteView channel_id,
                   std::string_view key_id, const PskNonce& server_nonce, const PskNonce& client_nonce) {
    return hmac_proof(key, {as_bytes(role == PskRole::client ? client_label : server_label), channel_id,
                            as_bytes(key_id), server_nonce, client_nonce});
}

Bytes encode_psk_s1(const PskNonce& server_nonce) {
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(PskMessage::s1_nonce)).raw(ByteView(server_nonce));
    return frame(body);
}

Bytes encode_psk_c1(const PskC1& c1) {
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(PskMessage::c1_proof))
        .string(std::string_view(c1.key_id))
        .raw(ByteView(c1.client_nonce))
        .raw(ByteView(c1.proof));
    return frame(body);
}

Bytes encode_psk_s2(const PskS2& s2) {
    openssh::WireWriter body;
    body.u8(static_cast<std::uint8_t>(PskMessage::s2_verdict))
        .u8(s2.accepted ? 0 : static_cast<std::uint8_t>(DenyReason::denied));
    if (s2.accepted) body.raw(ByteView(s2.proof));
    return frame(body);
}

PskNonce decode_psk_s1(ByteView body) {
    try {
        openssh::WireReader in(body);
        expect_type(in, PskMessage::s1_nonce, "S1");
        PskNonce nonce = in.fixed<psk_nonce_size>();
        in.expect_end("S1");
        return nonce;
    } catch (const openssh::FormatError& e) {
        malformed_psk("S1", e.what());
    }
}

PskC1 decode_psk_c1(ByteView body) {
    try {
        openssh::WireReader in(body);
        expect_type(in, PskMessage::c1_proof, "C1");
        PskC1 c1;
        c1.key_id = std::string(in.text());
        if (!valid_psk_id(c1.key_id)) malformed_psk("C1", "invalid key id");
        c1.client_nonce = in.fixed<psk_nonce_size>();
        c1.proof = in.fixed<psk_proof_size>();
        in.expect_end("C1");
        return c1;
    } catch (const openssh::FormatError& e) {
        malformed_psk("C1", e.what());
    }
}

PskS2 decode_psk_s2(ByteView body) {
    try {
        openssh::WireReader in(body);
        expect_type(in, PskMessage::s2_verdict, "S2");
        PskS2 s2;
        std::uint8_t verdict = in.u8();
        if (verdict == 0) {
            s2.accepted = true;
            s2.proof = in.fixed<psk_proof_size>();
        } else if (verdict != static_cast<std::uint8_t>(DenyReason::denied)) {
            malformed_psk("S2", "unknown verdict " + std::to_string(verdict));
        }
        in.expect_end("S2");
        return s2;
    } catch (const openssh::FormatError& e) {
        malformed_psk("S2", e.what());
    }
}

}  // namespace authchain
