// HAProxy PROXY protocol version 2: the header the gate sends to the backend
// first, so an unmodified server (or haproxy, nginx, redis-behind-haproxy ...)
// learns the real client address and what the chain proved about it.
//
// Wire format (haproxy doc/proxy-protocol.txt, section 2.2):
//   12-byte signature  \r\n\r\n\0\r\nQUIT\n
//   ver_cmd            0x21 (version 2, PROXY)
//   fam                0x11 TCP over IPv4 | 0x21 TCP over IPv6
//   len                big-endian length of what follows
//   addresses          src addr, dst addr, src port, dst port
//   TLVs               type (1 byte), length (2 bytes, big-endian), value
//
// The authenticated identity travels in TLVs of the custom range 0xE0-0xEF
// (docs/proxy_protocol.md lists them) and the channel id, hex-encoded, in
// PP2_TYPE_UNIQUE_ID.
#pragma once

#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/credentials.hpp>

namespace authchain::proxy_v2 {

inline constexpr std::uint8_t signature[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                               0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
inline constexpr std::size_t header_prefix_size = 16;  // signature + ver_cmd + fam + len
inline constexpr std::size_t max_unique_id = 128;      // spec limit for PP2_TYPE_UNIQUE_ID

// TLV types: the standard one we use and our custom range.
enum class Tlv : std::uint8_t {
    unique_id = 0x05,        // PP2_TYPE_UNIQUE_ID: hex of the channel id (<= 128 bytes)
    key_fingerprint = 0xE0,  // "SHA256:..." of the public key the client proved
    user = 0xE1,             // user name the chain proved
    cert_subject = 0xE2,     // X.509 subject of the client certificate
    psk_id = 0xE3,           // pre-shared key identity
    key_comment = 0xE4,      // comment of the matching authorized_keys line
    // PP2_TYPE_SSL as HAProxy sends it: client flags (u8), verify (u32, 0 =
    // the certificate verified), then sub-TLVs VERSION, CN (when the client
    // showed a certificate), CIPHER (OpenSSL's name).
    ssl = 0x20,
    cert_fingerprint = 0xEA,  // "sha256//BASE64" SPKI pin of the client certificate
    cert_serial = 0xEB,       // serial of the client certificate (upper-case hex)
    cert_key_id = 0xEC,         // key id of the OpenSSH user certificate the client proved
    ssh_cert_serial = 0xED,     // its serial (decimal)
    ssh_ca_fingerprint = 0xEE,  // "SHA256:..." of the CA key that signed it
};

// PP2_TYPE_SSL's client flags and sub-TLV types.
inline constexpr std::uint8_t pp2_client_ssl = 0x01, pp2_client_cert_conn = 0x02, pp2_client_cert_sess = 0x04;
inline constexpr std::uint8_t pp2_subtype_ssl_version = 0x21, pp2_subtype_ssl_cn = 0x22,
                              pp2_subtype_ssl_cipher = 0x23;

struct TlvEntry {
    std::uint8_t type = 0;
    std::string value{};
    bool operator==(const TlvEntry&) const = default;
};

// What one header says.
struct Header {
    bool local = false;  // LOCAL command: no addresses, no TLVs (health checks)
    asio::ip::tcp::endpoint source{};
    asio::ip::tcp::endpoint destination{};
    std::vector<TlvEntry> tlvs{};
};

// Encodes a PROXY (or LOCAL) header. Both endpoints IPv4 (or v4-mapped IPv6)
// give AF_INET; otherwise AF_INET6, an IPv4 address being written v4-mapped.
// Throws std::length_error if a TLV value exceeds 65535 bytes or the whole
// exceeds the 16-bit length field.
Bytes encode(const Header& header);

// The TLVs for what `credentials` proved: the custom identity TLVs and the
// unique id (hex of the channel id, cut to 128 characters).
std::vector<TlvEntry> identity_tlvs(const Credentials& credentials);

// Convenience: a PROXY header from client to gate with the identity TLVs.
Bytes encode_for(const asio::ip::tcp::endpoint& source, const asio::ip::tcp::endpoint& destination,
                 const Credentials& credentials);

// Parses a complete header at the start of `bytes` (pure; for backends
// behind the gate and for tests). Returns the header and its size in bytes;
// std::nullopt if `bytes` is a valid prefix but too short. Throws
// std::invalid_argument on anything malformed (bad signature, version,
// command, family, lengths, TLV overrun). `max_size` bounds the length field.
struct Parsed {
    Header header{};
    std::size_t size = 0;
};
std::optional<Parsed> parse(ByteView bytes, std::size_t max_size = 4096);

}  // namespace authchain::proxy_v2
