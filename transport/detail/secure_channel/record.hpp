// Records of the secure channel after the handshake (see secure_channel.md):
//
//   record     = length (2 bytes, big-endian) || ciphertext
//   ciphertext = EncryptWithAd("", type (1 byte) || body) : length bytes,
//                17..65535 (type + 16-byte tag at least, one Noise message at most)
//   types: data (body: 1..65518 bytes), close (no body), deny (body: one
//          DenyReason byte, 1..6 as deny_reason_from_byte accepts), rekey
//          (no body: the sender switched to Rekey()'d key after it), accept
//          (no body: the server's whole chain accepted the client; sent once,
//          before any data, and awaited by the client driver)
//
// Encoder and decoder are pure (no I/O): the stream feeds them bytes.
// Nonces are the CipherState counters, so a replayed, reordered or dropped
// record fails authentication.
#pragma once

#include <botan/secmem.h>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/transport/detail/noise/cipher_state.hpp>

namespace authchain::channel {

enum class RecordType : std::uint8_t { data = 0, close = 1, deny = 2, rekey = 3, accept = 4 };

inline constexpr std::size_t record_header = 2;
inline constexpr std::size_t min_ciphertext = 1 + noise::TAGLEN;
inline constexpr std::size_t max_ciphertext = noise::MAX_MESSAGE;
inline constexpr std::size_t max_record_data = max_ciphertext - noise::TAGLEN - 1;  // 65518
inline constexpr std::size_t max_record = record_header + max_ciphertext;

// The bytes one record with a body of `body_size` bytes takes on the wire.
constexpr std::size_t record_size(std::size_t body_size) noexcept {
    return record_header + 1 + body_size + noise::TAGLEN;
}

// An authenticated record. `body` points into the decoded input.
struct Record {
    RecordType type = RecordType::data;
    ByteView body;
    DenyReason reason = DenyReason::denied;  // for deny records
};

// The length a record header announces; throws AuthenticationError
// (protocol_error) when it is outside [min_ciphertext, max_ciphertext].
std::size_t parse_record_length(std::uint8_t high, std::uint8_t low);
// Checks a decrypted plaintext (type || body) and returns it as a Record;
// throws AuthenticationError(protocol_error) for an unknown type, an empty
// data record, a body on close/rekey/accept, or a bad deny reason.
Record parse_plaintext(ByteView plaintext);

class RecordEncoder {
public:
    explicit RecordEncoder(noise::CipherState send) : cipher_(std::move(send)) {}

    // Appends one record to `out`: header and ciphertext of type || body
    // (body at most max_record_data bytes). Throws NoiseError when the
    // nonce is exhausted.
    void encode(RecordType type, ByteView body, Botan::secure_vector<std::uint8_t>& out);
    // Writes one record at the front of `out`, which must hold at least
    // record_size(body.size()) bytes, and returns that size: the body is
    // copied once and encrypted where it lands. Requires a key.
    std::size_t encode(RecordType type, ByteView body, std::span<std::uint8_t> out);
    // Rekey() of the sending CipherState (after encoding a rekey record).
    void rekey() { cipher_.rekey(); }

private:
    noise::CipherState cipher_;
};

class RecordDecoder {
public:
    explicit RecordDecoder(noise::CipherState receive) : cipher_(std::move(receive)) {}

    // Decodes the record at the front of `input`: nullopt while incomplete
    // (`needed()` then says how many bytes the record takes in all), else the
    // record and its size on the wire. The record is decrypted in place, so
    // its body points into `input`. The tag is verified before anything is
    // returned. Throws AuthenticationError(protocol_error) on a bad length,
    // tag or plaintext; after that the decoder stays failed.
    std::optional<std::pair<Record, std::size_t>> decode(std::span<std::uint8_t> input);
    std::size_t needed() const noexcept { return needed_; }
    // Rekey() of the receiving CipherState (after a rekey record).
    void rekey() { cipher_.rekey(); }

private:
    [[noreturn]] void fail(std::string detail);

    noise::CipherState cipher_;
    std::size_t needed_ = record_header;
    bool failed_ = false;
};

}  // namespace authchain::channel
