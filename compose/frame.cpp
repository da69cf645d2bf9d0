#include <authchain/compose/frame.hpp>

#include <limits>
#include <stdexcept>
#include <string>

#include <authchain/compose/error.hpp>

namespace authchain {

Bytes frame(ByteView body) {
    if (body.empty() || body.size() > std::numeric_limits<std::uint32_t>::max())
        throw std::length_error("frame: body of " + std::to_string(body.size()) + " bytes");
    Bytes out;
    out.reserve(frame_header_size + body.size());
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(body.size() >> shift));
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

std::size_t frame_length(const std::array<std::uint8_t, frame_header_size>& header, std::size_t max,
                         std::string_view what) {
    std::size_t n = (std::size_t{header[0]} << 24) | (std::size_t{header[1]} << 16) |
                    (std::size_t{header[2]} << 8) | std::size_t{header[3]};
    if (n == 0 || n > max)
        deny(DenyReason::protocol_error, std::string(what) + ": message length " + std::to_string(n) +
                                             " out of range 1.." + std::to_string(max));
    return n;
}

}  // namespace authchain
