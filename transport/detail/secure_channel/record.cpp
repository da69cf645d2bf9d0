#include <authchain/transport/detail/secure_channel/record.hpp>

#include <authchain/transport/detail/secure_channel/copy_forward.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace authchain::channel {

std::size_t parse_record_length(std::uint8_t high, std::uint8_t low) {
    const std::size_t length = static_cast<std::size_t>(high) << 8 | low;
    if (length < min_ciphertext)
        deny(DenyReason::protocol_error, "record length " + std::to_string(length) + " below the minimum");
    return length;  // at most 65535 = max_ciphertext by construction
}

Record parse_plaintext(ByteView plaintext) {
    if (plaintext.empty()) deny(DenyReason::protocol_error, "record without a type");
    Record record;
    record.body = plaintext.subspan(1);
    switch (plaintext[0]) {
        case static_cast<std::uint8_t>(RecordType::data):
            record.type = RecordType::data;
            if (record.body.empty()) deny(DenyReason::protocol_error, "empty data record");
            return record;
        case static_cast<std::uint8_t>(RecordType::close):
        case static_cast<std::uint8_t>(RecordType::rekey):
        case static_cast<std::uint8_t>(RecordType::accept):
            record.type = static_cast<RecordType>(plaintext[0]);
            if (!record.body.empty()) deny(DenyReason::protocol_error, "control record with a body");
            return record;
        case static_cast<std::uint8_t>(RecordType::deny): {
            record.type = RecordType::deny;
            auto reason = record.body.size() == 1 ? deny_reason_from_byte(record.body[0]) : std::nullopt;
            if (!reason) deny(DenyReason::protocol_error, "malformed deny record");
            record.reason = *reason;
            return record;
        }
        default:
            deny(DenyReason::protocol_error, "unknown record type " + std::to_string(plaintext[0]));
    }
}

void RecordEncoder::encode(RecordType type, ByteView body, Botan::secure_vector<std::uint8_t>& out) {
    if (body.size() > max_record_data) throw std::length_error("record body too long");
    const std::size_t start = out.size();
    // The capacity is kept between records: this allocates only while the
    // buffer first grows.
    out.resize(start + record_header + 1 + body.size());
    out[start + record_header] = static_cast<std::uint8_t>(type);
    if (!body.empty()) copy_forward(out.data() + start + record_header + 1, body.data(), body.size());
    cipher_.encrypt_with_ad({}, out, start + record_header);
    const std::size_t length = out.size() - start - record_header;
    out[start] = static_cast<std::uint8_t>(length >> 8);
    out[start + 1] = static_cast<std::uint8_t>(length);
}

std::size_t RecordEncoder::encode(RecordType type, ByteView body, std::span<std::uint8_t> out) {
    if (body.size() > max_record_data) throw std::length_error("record body too long");
    if (!cipher_.has_key()) throw std::logic_error("record encoder without a key");
    const std::size_t size = record_size(body.size());
    if (out.size() < size) throw std::length_error("record buffer too small");
    // Type and body are encrypted straight into `out` (no copy of the body first).
    const std::uint8_t type_byte = static_cast<std::uint8_t>(type);
    cipher_.encrypt_with_ad({}, ByteView(&type_byte, 1), body, out.subspan(record_header, size - record_header));
    const std::size_t length = size - record_header;
    out[0] = static_cast<std::uint8_t>(length >> 8);
    out[1] = static_cast<std::uint8_t>(length);
    return size;
}

void RecordDecoder::fail(std::string detail) {
    failed_ = true;
    deny(DenyReason::protocol_error, std::move(detail));
}

std::optional<std::pair<Record, std::size_t>> RecordDecoder::decode(std::span<std::uint8_t> input) {
    if (failed_) deny(DenyReason::protocol_error, "secure channel already failed");
    needed_ = record_header;
    if (input.size() < record_header) return std::nullopt;
    std::size_t length = 0;
    try {
        length = parse_record_length(input[0], input[1]);
    } catch (const AuthenticationError& e) {
        fail(e.detail());
    }
    needed_ = record_header + length;
    if (input.size() < needed_) return std::nullopt;
    try {
        auto ciphertext = input.subspan(record_header, length);
        const std::size_t plain = cipher_.decrypt_with_ad({}, ciphertext);
        return std::pair{parse_plaintext(ciphertext.first(plain)), needed_};
    } catch (const noise::NoiseError& e) {
        fail(std::string("record rejected: ") + e.what());
    } catch (const AuthenticationError& e) {
        fail(e.detail());
    }
}

}  // namespace authchain::channel
