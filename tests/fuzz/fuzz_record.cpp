// Fuzzes the secure channel record layer.
// Input byte 0: bit 0 picks the cipher (ChaChaPoly / AESGCM), bit 1 the mode.
//   raw mode:    the rest is a received byte stream, decoded record by record.
//   script mode: the rest is [pos_hi][pos_lo][xor] then records as
//                [type][len][len body bytes]; the harness encodes them with a
//                fixed key, flips stream[pos] ^= xor, and checks that the
//                decoder returns exactly the records before the flipped one,
//                refuses the flipped one, and refuses invalid plaintexts.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include <authchain/transport/detail/secure_channel/record.hpp>

using namespace authchain;
using namespace authchain::channel;

namespace {

noise::CipherState keyed(noise::Cipher cipher) {
    noise::CipherState cs(cipher);
    cs.initialize_key(Botan::secure_vector<std::uint8_t>(noise::KEYLEN, 0x42));
    return cs;
}

// What parse_plaintext must accept, by RecordType: data has a body; close,
// rekey and accept have none; a deny carries one known reason.
bool valid_plaintext(std::uint8_t type, const Bytes& body) {
    switch (static_cast<RecordType>(type)) {
        case RecordType::data: return !body.empty();
        case RecordType::close: case RecordType::rekey: case RecordType::accept: return body.empty();
        case RecordType::deny: return body.size() == 1 && deny_reason_from_byte(body[0]).has_value();
    }
    return false;
}

void check(bool ok) {
    if (!ok) std::abort();
}

void raw(noise::Cipher cipher, ByteView bytes) {
    RecordDecoder decoder(keyed(cipher));
    Bytes copy(bytes.begin(), bytes.end());  // decoded in place
    std::span<std::uint8_t> input(copy);
    try {
        while (auto decoded = decoder.decode(input)) {
            check(decoded->second <= input.size());
            input = input.subspan(decoded->second);
        }
        check(decoder.needed() > input.size());
    } catch (const AuthenticationError& e) {
        check(e.reason() == DenyReason::protocol_error);
    }
}

void script(noise::Cipher cipher, ByteView input) {
    if (input.size() < 3) return;
    const std::size_t pos = std::size_t{input[0]} << 8 | input[1];
    const std::uint8_t flip = input[2];
    input = input.subspan(3);
    struct Sent {
        std::uint8_t type;
        Bytes body;
        std::size_t end;  // stream offset after the record
    };
    std::vector<Sent> sent;
    RecordEncoder encoder(keyed(cipher));
    Botan::secure_vector<std::uint8_t> stream;
    while (input.size() >= 2 && sent.size() < 64) {
        const std::uint8_t type = input[0];
        const std::size_t len = std::min<std::size_t>(input[1], input.size() - 2);
        Bytes body(input.begin() + 2, input.begin() + 2 + static_cast<std::ptrdiff_t>(len));
        input = input.subspan(2 + len);
        encoder.encode(static_cast<RecordType>(type), body, stream);
        sent.push_back({type, std::move(body), stream.size()});
    }
    const bool flipped = flip != 0 && pos < stream.size();
    if (flipped) stream[pos] ^= flip;

    RecordDecoder decoder(keyed(cipher));
    std::span<std::uint8_t> rest(stream.data(), stream.size());
    for (const auto& s : sent) {
        const bool hit = flipped && pos < s.end;
        try {
            auto decoded = decoder.decode(rest);
            if (hit && !decoded) return;  // a grown length waits for bytes that never come
            check(decoded.has_value());
            check(!hit);  // a flipped record never authenticates
            check(valid_plaintext(s.type, s.body));
            check(static_cast<std::uint8_t>(decoded->first.type) == s.type);
            if (decoded->first.type != RecordType::deny)
                check(Bytes(decoded->first.body.begin(), decoded->first.body.end()) == s.body);
            rest = rest.subspan(decoded->second);
        } catch (const AuthenticationError& e) {
            check(hit || !valid_plaintext(s.type, s.body));
            return;
        }
    }
    check(rest.empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const auto cipher = data[0] & 1 ? noise::Cipher::AESGCM : noise::Cipher::ChaChaPoly;
    ByteView input(data + 1, size - 1);
    // Also the pure plaintext parser on the raw bytes.
    try {
        (void)parse_plaintext(input);
    } catch (const AuthenticationError&) {
    }
    if (data[0] & 2)
        script(cipher, input);
    else
        raw(cipher, input);
    return 0;
}
