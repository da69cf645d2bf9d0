#include <authchain/auth/resumption/detail/messages.hpp>

#include <algorithm>
#include <string>
#include <string_view>

#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/auth/resumption.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/compose/frame.hpp>

namespace authchain {

namespace {

constexpr std::string_view resumption_client_label = "authchain resumption client v1";
constexpr std::string_view resumption_server_label = "authchain resumption server v1";

[[noreturn]] void malformed_resumption(std::string_view what, std::string_view why) {
    deny(DenyReason::protocol_error, "resumption " + std::string(what) + ": " + std::string(why));
}

void expect_type(openssh::WireReader& in, ResumptionMessage type, std::string_view what) {
    if (in.u8() != static_cast<std::uint8_t>(type))
        malformed_resumption(what, "unexpected message type (do both chains have a resumption layer "
                                   "at the same place?)");
}

std::uint8_t byte(ResumptionMessage m) { return static_cast<std::uint8_t>(m); }

// The frame around every decoder: the type byte, then `fields` reads the
// rest, then nothing may be left; any short read is protocol_error too.
template <class Fields>
auto decode_body(ByteView body, ResumptionMessage type, std::string_view what, Fields&& fields) {
    try {
        openssh::WireReader in(body);
        expect_type(in, type, what);
        auto message = fields(in);
        in.expect_end(what);
        return message;
    } catch (const openssh::FormatError& e) {
        malformed_resumption(what, e.what());
    }
}

}  // namespace

ResumptionProof resumption_proof(const TicketSecret& secret, ResumptionRole role, ByteView channel_id,
                                 const TicketId& id) {
    return hmac_proof(secret, {as_bytes(role == ResumptionRole::client ? resumption_client_label
                                                                        : resumption_server_label),
                               channel_id, id});
}

Bytes encode_resumption_r1(const ResumptionR1& r1) {
    openssh::WireWriter body;
    body.u8(byte(ResumptionMessage::r1_hello)).u8(r1.resume ? 1 : 0);
    if (r1.resume) body.raw(ByteView(r1.resume->id)).raw(ByteView(r1.resume->proof));
    return frame(body);
}

Bytes encode_resumption_r2(const ResumptionR2& r2) {
    openssh::WireWriter body;
    body.u8(byte(ResumptionMessage::r2_verdict)).u8(static_cast<std::uint8_t>(r2.verdict));
    if (r2.verdict == ResumptionVerdict::resumed) body.raw(ByteView(r2.proof));
    return frame(body);
}

Bytes encode_resumption_r3(const ResumptionR3& r3) {
    if (r3.secret.size() != resumption_secret_size)
        throw std::invalid_argument("encode_resumption_r3: the secret is not 32 bytes");
    openssh::WireWriter body;
    body.u8(byte(ResumptionMessage::r3_ticket))
        .u32(r3.lifetime_seconds)
        .raw(ByteView(r3.id))
        .raw(ByteView(r3.secret.data(), r3.secret.size()));
    return frame(body);
}

ResumptionR1 decode_resumption_r1(ByteView body) {
    return decode_body(body, ResumptionMessage::r1_hello, "R1", [](openssh::WireReader& in) {
        ResumptionR1 r1;
        std::uint8_t mode = in.u8();
        if (mode == 1)
            r1.resume = ResumptionR1::Resume{.id = in.fixed<resumption_id_size>(),
                                             .proof = in.fixed<resumption_proof_size>()};
        else if (mode != 0)
            malformed_resumption("R1", "unknown mode " + std::to_string(mode));
        return r1;
    });
}

ResumptionR2 decode_resumption_r2(ByteView body) {
    return decode_body(body, ResumptionMessage::r2_verdict, "R2", [](openssh::WireReader& in) {
        ResumptionR2 r2;
        std::uint8_t verdict = in.u8();
        switch (verdict) {
            case static_cast<std::uint8_t>(ResumptionVerdict::resumed):
                r2.verdict = ResumptionVerdict::resumed;
                r2.proof = in.fixed<resumption_proof_size>();
                break;
            case static_cast<std::uint8_t>(ResumptionVerdict::unknown):
                r2.verdict = ResumptionVerdict::unknown;
                break;
            case static_cast<std::uint8_t>(ResumptionVerdict::denied):
                r2.verdict = ResumptionVerdict::denied;
                break;
            default:
                malformed_resumption("R2", "unknown verdict " + std::to_string(verdict));
        }
        return r2;
    });
}

ResumptionR3 decode_resumption_r3(ByteView body) {
    return decode_body(body, ResumptionMessage::r3_ticket, "R3", [](openssh::WireReader& in) {
        ResumptionR3 r3;
        r3.lifetime_seconds = in.u32();
        if (r3.lifetime_seconds < 1 || r3.lifetime_seconds > resumption_max_lifetime.count())
            malformed_resumption("R3", "lifetime " + std::to_string(r3.lifetime_seconds) +
                                           " s out of range 1.." +
                                           std::to_string(resumption_max_lifetime.count()));
        r3.id = in.fixed<resumption_id_size>();
        ByteView secret = in.raw(resumption_secret_size);
        r3.secret.assign(secret.begin(), secret.end());
        return r3;
    });
}

}  // namespace authchain
