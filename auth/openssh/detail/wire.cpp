#include <authchain/auth/openssh/detail/wire.hpp>

#include <string>

namespace authchain::openssh {

ByteView WireReader::raw(std::size_t n) {
    if (n > rest_.size())
        throw FormatError("truncated SSH wire data: need " + std::to_string(n) + " bytes, have " +
                          std::to_string(rest_.size()));
    ByteView out = rest_.first(n);
    rest_ = rest_.subspan(n);
    return out;
}

std::uint8_t WireReader::u8() { return raw(1)[0]; }

std::uint32_t WireReader::u32() {
    ByteView b = raw(4);
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
}

std::uint64_t WireReader::u64() {
    const std::uint64_t high = u32();
    return (high << 32) | u32();
}

ByteView WireReader::string() {
    std::uint32_t n = u32();
    return raw(n);  // checked against the remaining input, nothing allocated
}

ByteView WireReader::mpint(std::size_t max_bytes) {
    ByteView v = string();
    if (!v.empty() && (v[0] & 0x80) != 0) throw FormatError("negative mpint");
    while (!v.empty() && v[0] == 0) v = v.subspan(1);
    if (v.size() > max_bytes) throw FormatError("mpint too large");
    return v;
}

void WireReader::expect_end(std::string_view what) const {
    if (!rest_.empty()) throw FormatError("trailing bytes after " + std::string(what));
}

WireWriter& WireWriter::u8(std::uint8_t v) {
    out_.push_back(v);
    return *this;
}

WireWriter& WireWriter::u32(std::uint32_t v) {
    out_.push_back(static_cast<std::uint8_t>(v >> 24));
    out_.push_back(static_cast<std::uint8_t>(v >> 16));
    out_.push_back(static_cast<std::uint8_t>(v >> 8));
    out_.push_back(static_cast<std::uint8_t>(v));
    return *this;
}

WireWriter& WireWriter::u64(std::uint64_t v) {
    u32(static_cast<std::uint32_t>(v >> 32));
    return u32(static_cast<std::uint32_t>(v));
}

WireWriter& WireWriter::raw(ByteView bytes) {
    out_.insert(out_.end(), bytes.begin(), bytes.end());
    return *this;
}

WireWriter& WireWriter::string(ByteView s) {
    u32(static_cast<std::uint32_t>(s.size()));
    return raw(s);
}

WireWriter& WireWriter::mpint(ByteView magnitude) {
    while (!magnitude.empty() && magnitude[0] == 0) magnitude = magnitude.subspan(1);
    bool pad = !magnitude.empty() && (magnitude[0] & 0x80) != 0;
    u32(static_cast<std::uint32_t>(magnitude.size() + (pad ? 1 : 0)));
    if (pad) out_.push_back(0);
    return raw(magnitude);
}

}  // namespace authchain::openssh
