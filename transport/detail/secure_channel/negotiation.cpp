#include <authchain/transport/detail/secure_channel/negotiation.hpp>

#include <algorithm>

#include <authchain/compose/error.hpp>

namespace authchain::channel {

namespace {

constexpr std::size_t header_size = magic.size() + 1;  // magic | version

// Checks magic and version as far as `input` goes; throws on a mismatch.
void check_header(ByteView input, const char* what) {
    const std::size_t n = std::min(input.size(), magic.size());
    if (!std::equal(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n), magic.begin()))
        deny(DenyReason::protocol_error, std::string(what) + ": not an authchain secure channel peer");
    if (input.size() > magic.size() && input[magic.size()] != protocol_version)
        deny(DenyReason::protocol_error,
             std::string(what) + ": unsupported version " + std::to_string(input[magic.size()]));
}

std::uint16_t read_u16(ByteView b) { return static_cast<std::uint16_t>(b[0] << 8 | b[1]); }

}  // namespace

std::uint8_t suite_id(noise::Suite suite) {
    const int c = suite.cipher == noise::Cipher::ChaChaPoly ? 1 : 2;
    const int h = suite.hash == noise::Hash::SHA256 ? 1 : suite.hash == noise::Hash::SHA512 ? 2 : 3;
    return static_cast<std::uint8_t>(c << 4 | h);
}

std::optional<noise::Suite> suite_from_id(std::uint8_t id) {
    noise::Suite s;
    switch (id >> 4) {
        case 1: s.cipher = noise::Cipher::ChaChaPoly; break;
        case 2: s.cipher = noise::Cipher::AESGCM; break;
        default: return std::nullopt;
    }
    switch (id & 0x0f) {
        case 1: s.hash = noise::Hash::SHA256; break;
        case 2: s.hash = noise::Hash::SHA512; break;
        case 3: s.hash = noise::Hash::BLAKE2b; break;
        default: return std::nullopt;
    }
    return s;
}

Bytes encode_offer(std::span<const noise::Suite> suites) {
    if (suites.empty() || suites.size() > max_offered_suites)
        throw std::invalid_argument("secure channel: offer 1 to 16 suites");
    Bytes out(header_size + 1 + suites.size());
    std::copy(magic.begin(), magic.end(), out.begin());
    out[magic.size()] = protocol_version;
    out[header_size] = static_cast<std::uint8_t>(suites.size());
    for (std::size_t i = 0; i < suites.size(); ++i) out[header_size + 1 + i] = suite_id(suites[i]);
    return out;
}

Bytes encode_choice(std::uint8_t chosen_id) {
    return Bytes{magic[0], magic[1], magic[2], magic[3], protocol_version, chosen_id};
}

Bytes frame(ByteView message) {
    if (message.size() > 0xffff) throw std::length_error("secure channel: frame over 65535 bytes");
    Bytes out(2 + message.size());
    out[0] = static_cast<std::uint8_t>(message.size() >> 8);
    out[1] = static_cast<std::uint8_t>(message.size());
    std::copy(message.begin(), message.end(), out.begin() + 2);
    return out;
}

std::optional<Parsed<Bytes>> parse_frame(ByteView input) {
    if (input.size() < 2) return std::nullopt;
    const std::size_t length = read_u16(input);
    if (length == 0) deny(DenyReason::protocol_error, "empty handshake frame");
    if (input.size() < 2 + length) return std::nullopt;
    return Parsed<Bytes>{Bytes(input.begin() + 2, input.begin() + 2 + static_cast<std::ptrdiff_t>(length)),
                         2 + length};
}

std::optional<Parsed<ClientHello>> parse_client_hello(ByteView input) {
    check_header(input, "C1");
    if (input.size() < header_size + 1) return std::nullopt;
    const std::size_t count = input[header_size];
    if (count == 0 || count > max_offered_suites)
        deny(DenyReason::protocol_error, "C1: offers " + std::to_string(count) + " suites");
    const std::size_t offer_size = header_size + 1 + count;
    if (input.size() < offer_size) return std::nullopt;
    auto framed = parse_frame(input.subspan(offer_size));
    if (!framed) return std::nullopt;
    ClientHello hello;
    hello.offer.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(offer_size));
    hello.ids.assign(hello.offer.begin() + header_size + 1, hello.offer.end());
    hello.message = std::move(framed->value);
    return Parsed<ClientHello>{std::move(hello), offer_size + framed->size};
}

std::optional<Parsed<ServerHello>> parse_server_hello(ByteView input, std::uint8_t first_offered) {
    check_header(input, "S1");
    const std::size_t choice_size = header_size + 1;
    if (input.size() < choice_size) return std::nullopt;
    ServerHello hello;
    hello.choice.assign(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(choice_size));
    hello.chosen = input[header_size];
    if (hello.chosen != first_offered || hello.chosen == no_common_suite)
        return Parsed<ServerHello>{std::move(hello), choice_size};
    auto framed = parse_frame(input.subspan(choice_size));
    if (!framed) return std::nullopt;
    hello.message = std::move(framed->value);
    return Parsed<ServerHello>{std::move(hello), choice_size + framed->size};
}

std::uint8_t choose_suite(std::span<const noise::Suite> preference, std::span<const std::uint8_t> offered) {
    for (const auto& s : preference)
        if (std::find(offered.begin(), offered.end(), suite_id(s)) != offered.end()) return suite_id(s);
    return no_common_suite;
}

Bytes make_prologue(ByteView offer, ByteView choice) {
    Bytes out(prologue_label.size() + offer.size() + choice.size());
    auto at = std::copy(prologue_label.begin(), prologue_label.end(), out.begin());
    at = std::copy(offer.begin(), offer.end(), at);
    std::copy(choice.begin(), choice.end(), at);
    return out;
}

}  // namespace authchain::channel
