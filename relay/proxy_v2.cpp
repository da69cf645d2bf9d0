#include <authchain/relay/proxy_v2.hpp>

#include <algorithm>
#include <stdexcept>

namespace authchain::proxy_v2 {

namespace {

constexpr std::uint8_t version_2 = 0x20;
constexpr std::uint8_t cmd_local = 0x00;
constexpr std::uint8_t cmd_proxy = 0x01;
constexpr std::uint8_t fam_unspec = 0x00;
constexpr std::uint8_t fam_inet_stream = 0x11;
constexpr std::uint8_t fam_inet6_stream = 0x21;
constexpr std::size_t inet_size = 12;
constexpr std::size_t inet6_size = 36;

void put16(Bytes& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xFF));
}

std::uint16_t get16(ByteView b, std::size_t at) {
    return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

bool is_v4(const asio::ip::address& a) { return a.is_v4() || (a.is_v6() && a.to_v6().is_v4_mapped()); }

asio::ip::address_v4 as_v4(const asio::ip::address& a) {
    return a.is_v4() ? a.to_v4() : asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
}

asio::ip::address_v6 as_v6(const asio::ip::address& a) {
    return a.is_v6() ? a.to_v6() : asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4());
}

template <class Array>
void put_bytes(Bytes& out, const Array& a) {
    out.insert(out.end(), a.begin(), a.end());
}

}  // namespace

Bytes encode(const Header& header) {
    Bytes body;
    std::uint8_t fam = fam_unspec;
    if (!header.local) {
        const auto& src = header.source;
        const auto& dst = header.destination;
        if (is_v4(src.address()) && is_v4(dst.address())) {
            fam = fam_inet_stream;
            put_bytes(body, as_v4(src.address()).to_bytes());
            put_bytes(body, as_v4(dst.address()).to_bytes());
        } else {
            fam = fam_inet6_stream;
            put_bytes(body, as_v6(src.address()).to_bytes());
            put_bytes(body, as_v6(dst.address()).to_bytes());
        }
        put16(body, src.port());
        put16(body, dst.port());
        for (const auto& tlv : header.tlvs) {
            if (tlv.value.size() > 0xFFFF) throw std::length_error("PROXY v2 TLV value longer than 65535 bytes");
            body.push_back(tlv.type);
            put16(body, tlv.value.size());
            body.insert(body.end(), tlv.value.begin(), tlv.value.end());
        }
    }
    if (body.size() > 0xFFFF) throw std::length_error("PROXY v2 header longer than 65535 bytes");

    Bytes out(std::begin(signature), std::end(signature));
    out.push_back(version_2 | (header.local ? cmd_local : cmd_proxy));
    out.push_back(fam);
    put16(out, body.size());
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

namespace {

void put_sub_tlv(std::string& out, std::uint8_t type, std::string_view value) {
    const std::size_t n = std::min<std::size_t>(value.size(), 0xFFFF);
    out += static_cast<char>(type);
    out += static_cast<char>(n >> 8);
    out += static_cast<char>(n & 0xFF);
    out.append(value.substr(0, n));
}

// PP2_TYPE_SSL from the tls layer's facts: tls_suite is "TLSv1.2 CIPHER".
TlvEntry ssl_tlv(const Credentials& c) {
    const std::string& suite = *c.tls_suite;
    const auto space = suite.find(' ');
    const std::string version = suite.substr(0, space);
    const std::string cipher = space == std::string::npos ? std::string() : suite.substr(space + 1);
    std::string value;
    std::uint8_t client = pp2_client_ssl;
    if (c.cert_subject) client |= pp2_client_cert_conn | pp2_client_cert_sess;
    value += static_cast<char>(client);
    value.append(4, '\0');  // verify: 0, every certificate proven has verified
    put_sub_tlv(value, pp2_subtype_ssl_version, version);
    if (c.cert_common_name) put_sub_tlv(value, pp2_subtype_ssl_cn, *c.cert_common_name);
    if (!cipher.empty()) put_sub_tlv(value, pp2_subtype_ssl_cipher, cipher);
    return {static_cast<std::uint8_t>(Tlv::ssl), std::move(value)};
}

}  // namespace

std::vector<TlvEntry> identity_tlvs(const Credentials& c) {
    std::vector<TlvEntry> tlvs;
    if (c.channel_id && !c.channel_id->empty()) {
        std::string hex = to_hex(*c.channel_id);
        hex.resize(std::min(hex.size(), max_unique_id));
        tlvs.push_back({static_cast<std::uint8_t>(Tlv::unique_id), std::move(hex)});
    }
    auto add = [&](Tlv type, const Fact<std::string>& fact) {
        if (fact) tlvs.push_back({static_cast<std::uint8_t>(type), *fact});
    };
    add(Tlv::key_fingerprint, c.key_fingerprint);
    add(Tlv::user, c.user);
    add(Tlv::cert_subject, c.cert_subject);
    add(Tlv::psk_id, c.psk_id);
    add(Tlv::key_comment, c.key_comment);
    if (c.tls_suite) tlvs.push_back(ssl_tlv(c));
    add(Tlv::cert_fingerprint, c.cert_fingerprint);
    add(Tlv::cert_serial, c.cert_serial);
    add(Tlv::cert_key_id, c.cert_key_id);
    add(Tlv::ssh_cert_serial, c.ssh_cert_serial);
    add(Tlv::ssh_ca_fingerprint, c.ssh_ca_fingerprint);
    return tlvs;
}

Bytes encode_for(const asio::ip::tcp::endpoint& source, const asio::ip::tcp::endpoint& destination,
                 const Credentials& credentials) {
    Header h;
    h.source = source;
    h.destination = destination;
    h.tlvs = identity_tlvs(credentials);
    return encode(h);
}

std::optional<Parsed> parse(ByteView bytes, std::size_t max_size) {
    // Check the signature as far as we have it, so garbage fails early.
    std::size_t sig = std::min(bytes.size(), sizeof signature);
    if (!std::equal(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(sig), signature))
        throw std::invalid_argument("PROXY v2: bad signature");
    if (bytes.size() < header_prefix_size) return std::nullopt;

    std::uint8_t ver_cmd = bytes[12];
    if ((ver_cmd & 0xF0) != version_2) throw std::invalid_argument("PROXY v2: unsupported version");
    std::uint8_t cmd = ver_cmd & 0x0F;
    if (cmd != cmd_local && cmd != cmd_proxy) throw std::invalid_argument("PROXY v2: unknown command");
    std::uint8_t fam = bytes[13];
    std::size_t len = get16(bytes, 14);
    if (header_prefix_size + len > max_size) throw std::invalid_argument("PROXY v2: header too long");
    if (bytes.size() < header_prefix_size + len) return std::nullopt;
    ByteView body = bytes.subspan(header_prefix_size, len);

    Parsed result;
    result.size = header_prefix_size + len;
    result.header.local = cmd == cmd_local;
    std::size_t addr_size = 0;
    if (fam == fam_inet_stream) {
        addr_size = inet_size;
        if (len < addr_size) throw std::invalid_argument("PROXY v2: IPv4 block truncated");
        asio::ip::address_v4::bytes_type s{}, d{};
        std::copy_n(body.begin(), 4, s.begin());
        std::copy_n(body.begin() + 4, 4, d.begin());
        result.header.source = {asio::ip::address_v4(s), get16(body, 8)};
        result.header.destination = {asio::ip::address_v4(d), get16(body, 10)};
    } else if (fam == fam_inet6_stream) {
        addr_size = inet6_size;
        if (len < addr_size) throw std::invalid_argument("PROXY v2: IPv6 block truncated");
        asio::ip::address_v6::bytes_type s{}, d{};
        std::copy_n(body.begin(), 16, s.begin());
        std::copy_n(body.begin() + 16, 16, d.begin());
        result.header.source = {asio::ip::address_v6(s), get16(body, 32)};
        result.header.destination = {asio::ip::address_v6(d), get16(body, 34)};
    } else if (fam == fam_unspec) {
        // Only meaningful with LOCAL; the receiver ignores the addresses.
        if (cmd == cmd_proxy) throw std::invalid_argument("PROXY v2: PROXY command with UNSPEC family");
        return result;  // the receiver skips whatever follows
    } else {
        throw std::invalid_argument("PROXY v2: unsupported address family");
    }

    for (std::size_t at = addr_size; at < len;) {
        if (len - at < 3) throw std::invalid_argument("PROXY v2: truncated TLV header");
        std::uint8_t type = body[at];
        std::size_t vlen = get16(body, at + 1);
        at += 3;
        if (vlen > len - at) throw std::invalid_argument("PROXY v2: TLV overruns header");
        std::string_view value = as_text(body.subspan(at, vlen));
        result.header.tlvs.push_back({type, std::string(value)});
        at += vlen;
    }
    return result;
}

}  // namespace authchain::proxy_v2
