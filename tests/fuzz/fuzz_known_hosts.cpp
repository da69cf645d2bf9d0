// Fuzzes the known_hosts parser and lookup. Input: the first line is the
// host name to look up, the rest is the known_hosts text.
#include <cstdint>
#include <string_view>

#include <authchain/auth/openssh/known_hosts.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain::openssh;
    static const PublicKey fixed = PublicKey::from_base64(
        "ssh-ed25519", "AAAAC3NzaC1lZDI1NTE5AAAAIGwjvrtphxwzCV3E21JuC61pYli/us08PPWEnn089vRb");
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nl = input.find('\n');
    std::string_view host = input.substr(0, nl == std::string_view::npos ? 0 : nl);
    std::string_view text = nl == std::string_view::npos ? input : input.substr(nl + 1);
    if (host.size() > 256) host = host.substr(0, 256);
    KnownHosts known = parse_known_hosts(text, "fuzz");
    for (std::uint16_t port : {0, 2222}) {
        (void)lookup_host_key(known, host, port, fixed);
        if (!known.entries.empty()) (void)lookup_host_key(known, host, port, known.entries.front().key);
    }
    return 0;
}
