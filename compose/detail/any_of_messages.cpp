#include <authchain/compose/detail/any_of_messages.hpp>

#include <algorithm>
#include <botan/hash.h>

#include <authchain/compose/error.hpp>

namespace authchain::detail {

namespace {

constexpr std::uint8_t accepted_byte = 0;
constexpr std::uint8_t denied_byte = static_cast<std::uint8_t>(DenyReason::denied);

void put_u32(Bytes& out, std::size_t n) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(n >> shift));
}

void put_name(Bytes& body, std::string_view name) {
    body.push_back(static_cast<std::uint8_t>(name.size()));
    body.insert(body.end(), name.begin(), name.end());
}

[[noreturn]] void malformed_any_of(std::string_view what, std::string_view why) {
    deny(DenyReason::protocol_error, "any_of " + std::string(what) + ": " + std::string(why));
}

// A bounded reader over one body.
class Reader {
public:
    Reader(ByteView body, std::string_view what) : rest_(body), what_(what) {}
    std::uint8_t u8() {
        if (rest_.empty()) malformed_any_of(what_, "truncated");
        std::uint8_t v = rest_.front();
        rest_ = rest_.subspan(1);
        return v;
    }
    std::string name(bool may_be_empty) {
        std::size_t n = u8();
        if (n > rest_.size()) malformed_any_of(what_, "truncated name");
        std::string out(as_text(rest_.first(n)));
        rest_ = rest_.subspan(n);
        if (!(may_be_empty && out.empty()) && !valid_method_name(out)) malformed_any_of(what_, "invalid method name");
        return out;
    }
    void type(AnyOfMessage t) {
        if (u8() != static_cast<std::uint8_t>(t)) malformed_any_of(what_, "unexpected message type");
    }
    bool verdict() {
        std::uint8_t v = u8();
        if (v != accepted_byte && v != denied_byte) malformed_any_of(what_, "unknown verdict " + std::to_string(v));
        return v == accepted_byte;
    }
    void end() const {
        if (!rest_.empty()) malformed_any_of(what_, "trailing bytes");
    }

private:
    ByteView rest_;
    std::string_view what_;
};

void put_string(Bytes& out, ByteView s) {
    put_u32(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

bool valid_method_name(std::string_view name) {
    return !name.empty() && name.size() <= max_method_name && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
    });
}

Bytes encode_offer(const Offer& offer) {
    Bytes body{static_cast<std::uint8_t>(AnyOfMessage::offer), offer.attempts_left,
               static_cast<std::uint8_t>(offer.methods.size())};
    for (const auto& m : offer.methods) put_name(body, m);
    return frame(body);
}

Bytes encode_choice(std::string_view method) {
    Bytes body{static_cast<std::uint8_t>(AnyOfMessage::choice)};
    put_name(body, method);
    return frame(body);
}

Bytes encode_server_verdict(const Verdict& verdict) {
    return frame(Bytes{static_cast<std::uint8_t>(AnyOfMessage::server_verdict), verdict.accepted ? accepted_byte : denied_byte,
                  verdict.attempts_left});
}

Bytes encode_client_verdict(bool accepted) {
    return frame(Bytes{static_cast<std::uint8_t>(AnyOfMessage::client_verdict), accepted ? accepted_byte : denied_byte});
}

Offer decode_offer(ByteView body) {
    Reader in(body, "A1");
    in.type(AnyOfMessage::offer);
    Offer offer;
    offer.attempts_left = in.u8();
    std::size_t n = in.u8();
    if (n == 0 || n > max_any_of_methods) malformed_any_of("A1", "method count " + std::to_string(n) + " out of range 1..16");
    for (std::size_t i = 0; i < n; ++i) {
        std::string name = in.name(false);
        if (std::find(offer.methods.begin(), offer.methods.end(), name) != offer.methods.end())
            malformed_any_of("A1", "method offered twice");
        offer.methods.push_back(std::move(name));
    }
    in.end();
    return offer;
}

std::string decode_choice(ByteView body) {
    Reader in(body, "A2");
    in.type(AnyOfMessage::choice);
    std::string name = in.name(true);
    in.end();
    return name;
}

Verdict decode_server_verdict(ByteView body) {
    Reader in(body, "A3");
    in.type(AnyOfMessage::server_verdict);
    Verdict v;
    v.accepted = in.verdict();
    v.attempts_left = in.u8();
    in.end();
    return v;
}

bool decode_client_verdict(ByteView body) {
    Reader in(body, "A4");
    in.type(AnyOfMessage::client_verdict);
    bool accepted = in.verdict();
    in.end();
    return accepted;
}

Bytes bound_channel_id(ByteView channel_id, ByteView transcript) {
    Bytes out;
    put_string(out, as_bytes("authchain any_of v1"));
    put_string(out, channel_id);
    put_string(out, transcript);
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    sha256->update(out.data(), out.size());
    Bytes digest(sha256->output_length());
    sha256->final(digest.data());
    return digest;
}

}  // namespace authchain::detail
