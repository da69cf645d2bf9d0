// Fuzzes the authorized_keys parser on a whole file, then matches every
// parsed key against a few peer addresses.
#include <chrono>
#include <cstdint>
#include <string_view>

#include <authchain/auth/openssh/authorized_keys.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain::openssh;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    AuthorizedKeys keys = parse_authorized_keys(text, "fuzz");
    static const asio::ip::address peers[] = {asio::ip::make_address("10.1.2.3"),
                                              asio::ip::make_address("::ffff:192.168.0.1"),
                                              asio::ip::make_address("2001:db8::7")};
    auto now = std::chrono::system_clock::now();
    for (const auto& entry : keys.entries)
        for (const auto& peer : peers) (void)find_authorized_key(keys, entry.key, peer, now);
    return 0;
}
