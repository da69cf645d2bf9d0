// Fuzzes the PROXY protocol v2 parser (relay/proxy_v2). The only exception
// allowed out of parse is std::invalid_argument; whatever it accepts must
// encode again and parse back to the same ports and TLVs.
//
// The fuzz build links only authchain_dep, so the tools source is compiled
// into the target here.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>

#include <authchain/relay/proxy_v2.hpp>

using namespace authchain;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::optional<proxy_v2::Parsed> parsed;
    try {
        parsed = proxy_v2::parse(ByteView(data, size), 1024);
    } catch (const std::invalid_argument&) {
        return 0;
    }
    if (!parsed) return 0;
    if (parsed->size > size || parsed->size > 1024) std::abort();
    if (parsed->header.local) return 0;
    Bytes again = proxy_v2::encode(parsed->header);
    auto back = proxy_v2::parse(again, 1 << 17);
    if (!back || back->size != again.size()) std::abort();
    if (back->header.tlvs != parsed->header.tlvs) std::abort();
    if (back->header.source.port() != parsed->header.source.port()) std::abort();
    if (back->header.destination.port() != parsed->header.destination.port()) std::abort();
    return 0;
}
