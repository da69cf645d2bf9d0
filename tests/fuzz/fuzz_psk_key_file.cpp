// Fuzzes the psk key-file parser (id:base64key lines).
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include <authchain/auth/psk.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        PskKeyFile file = parse_psk_keys(text, "fuzz");
        for (const auto& k : file.keys)
            if (!valid_psk_id(k.id) || k.key.size() < psk_min_key_bytes || k.key.size() > psk_max_key_bytes) __builtin_trap();
    } catch (const std::runtime_error&) {
    }
    return 0;
}
