#include <authchain/compose/cidr.hpp>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace authchain {

asio::ip::address normalize(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
}

asio::ip::address source_of(const asio::ip::address& raw) {
    auto address = normalize(raw);
    if (address.is_v4()) return address;
    auto bytes = address.to_v6().to_bytes();
    std::fill(bytes.begin() + 8, bytes.end(), 0);
    return asio::ip::address_v6(bytes);
}

namespace {

// Big-endian bytes of an address, v4 (4) or v6 (16).
std::array<unsigned char, 16> bytes_of(const asio::ip::address& a, std::size_t& size) {
    std::array<unsigned char, 16> out{};
    if (a.is_v4()) {
        auto b = a.to_v4().to_bytes();
        std::copy(b.begin(), b.end(), out.begin());
        size = 4;
    } else {
        out = a.to_v6().to_bytes();
        size = 16;
    }
    return out;
}

bool prefix_equal(const asio::ip::address& a, const asio::ip::address& b, unsigned prefix) {
    std::size_t na = 0, nb = 0;
    auto x = bytes_of(a, na);
    auto y = bytes_of(b, nb);
    if (na != nb) return false;
    unsigned full = prefix / 8, rest = prefix % 8;
    for (unsigned i = 0; i < full; ++i)
        if (x[i] != y[i]) return false;
    if (rest == 0) return true;
    unsigned char mask = static_cast<unsigned char>(0xff << (8 - rest));
    return (x[full] & mask) == (y[full] & mask);
}

[[noreturn]] void bad(std::string_view text, std::string_view why) {
    throw std::invalid_argument("invalid CIDR \"" + std::string(text) + "\": " + std::string(why));
}

}  // namespace

Cidr Cidr::parse(std::string_view text) {
    auto slash = text.find('/');
    std::string addr_text(text.substr(0, slash));
    std::error_code ec;
    auto address = asio::ip::make_address(addr_text, ec);
    if (ec || addr_text.empty()) bad(text, "not an IP address");
    unsigned max = address.is_v4() ? 32 : 128;
    unsigned prefix = max;
    if (slash != std::string_view::npos) {
        auto p = text.substr(slash + 1);
        auto [end, err] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (p.empty() || err != std::errc() || end != p.data() + p.size()) bad(text, "prefix is not a number");
        if (prefix > max) bad(text, "prefix longer than the address");
    }
    Cidr c;
    c.network_ = address;
    c.prefix_ = prefix;
    // Host bits set: almost always a typo ("10.0.0.1/8"); refuse.
    {
        std::size_t n = 0;
        auto b = bytes_of(address, n);
        for (unsigned bit = prefix; bit < n * 8; ++bit)
            if (b[bit / 8] & (0x80 >> (bit % 8))) bad(text, "host bits set after the prefix");
    }
    if (address.is_v6() && address.to_v6().is_v4_mapped() && prefix >= 96) {
        c.network_ = normalize(address);
        c.prefix_ = prefix - 96;
    }
    return c;
}

bool Cidr::contains(const asio::ip::address& address) const {
    return prefix_equal(network_, normalize(address), prefix_);
}

std::string Cidr::to_string() const {
    return network_.to_string() + "/" + std::to_string(prefix_);
}

}  // namespace authchain
