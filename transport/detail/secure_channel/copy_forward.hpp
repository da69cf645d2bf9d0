// copy_forward: the record layer's copy of record-sized byte ranges.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace authchain::channel {

// Copies n bytes front to back in 64-byte vector moves; safe when the ranges
// overlap with dst <= src (compaction). Used instead of memcpy for record-sized
// copies: glibc's memcpy switches to `rep movsb` for large sizes, which on the
// AMD EPYC here runs at ~3.4 GB/s instead of ~40 GB/s for some relative
// alignments of source and destination (measured), and records land on such
// alignments every few records. This loop runs at ~28 GB/s for any alignment.
inline void copy_forward(std::uint8_t* dst, const std::uint8_t* src, std::size_t n) noexcept {
    std::size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        unsigned char chunk[64];
        std::memcpy(chunk, src + i, 64);  // fixed size: inlined as vector moves
        std::memcpy(dst + i, chunk, 64);
    }
    if (i < n) std::memmove(dst + i, src + i, n - i);
}

}  // namespace authchain::channel
