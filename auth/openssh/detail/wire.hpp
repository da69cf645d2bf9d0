// SSH wire encoding (RFC 4251 section 5): uint32, string, mpint.
// The reader is bounded: every length is checked against the remaining
// input before anything is copied or allocated.
#pragma once

#include <authchain/auth/openssh/key.hpp>
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/frame.hpp>

#include <botan/secmem.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace authchain::openssh {

// Reads SSH wire fields from a view it does not own; throws FormatError
// ("truncated ...") when a field runs past the end of the input.
class WireReader {
public:
    explicit WireReader(ByteView input) : rest_(input) {}

    std::uint8_t u8();
    std::uint32_t u32();
    std::uint64_t u64();
    // A length-prefixed string, viewed in place (no copy).
    ByteView string();
    std::string_view text() { return as_text(string()); }
    // An mpint that must be non-negative: returns its magnitude, big-endian,
    // without leading zero bytes; throws FormatError if negative or if the
    // magnitude is longer than `max_bytes`.
    ByteView mpint(std::size_t max_bytes);
    // `n` raw bytes.
    ByteView raw(std::size_t n);
    // `N` raw bytes, copied out (a nonce, a proof, an id of fixed size).
    template <std::size_t N>
    std::array<std::uint8_t, N> fixed() {
        ByteView v = raw(N);
        std::array<std::uint8_t, N> out{};
        std::copy(v.begin(), v.end(), out.begin());
        return out;
    }

    std::size_t remaining() const { return rest_.size(); }
    bool empty() const { return rest_.empty(); }
    // Throws FormatError("trailing bytes after <what>") unless empty.
    void expect_end(std::string_view what) const;

private:
    ByteView rest_;
};

// Appends SSH wire fields. Kept in a secure_vector because private key
// sections are built with it; public callers take bytes().
class WireWriter {
public:
    WireWriter& u8(std::uint8_t v);
    WireWriter& u32(std::uint32_t v);
    WireWriter& u64(std::uint64_t v);
    WireWriter& string(ByteView s);
    WireWriter& string(std::string_view s) { return string(as_bytes(s)); }
    // Writes a non-negative integer given as big-endian magnitude (leading
    // zero bytes are dropped, a zero byte is prepended when the top bit is set).
    WireWriter& mpint(ByteView magnitude);
    WireWriter& raw(ByteView bytes);

    const Botan::secure_vector<std::uint8_t>& data() const { return out_; }
    Botan::secure_vector<std::uint8_t>& data() { return out_; }
    Bytes bytes() const { return Bytes(out_.begin(), out_.end()); }

private:
    Botan::secure_vector<std::uint8_t> out_;
};

// One message of a layer's protocol: the writer's bytes behind a length
// prefix (authchain::frame).
inline Bytes frame(const WireWriter& body) { return authchain::frame(ByteView(body.data().data(), body.data().size())); }

}  // namespace authchain::openssh
