// Frames of the multiplexed channel (relay/multiplex.hpp): many tunnelled
// connections ("streams") over one authenticated connection.
//
//   frame   = type (1 byte) || stream (4 bytes, big-endian) || length (2 bytes,
//             big-endian) || payload (length bytes)
//
//   type  name    stream   payload
//   0     hello   0        version (1 byte, 1) || max_streams (4 bytes, big-endian,
//                          1..2^20: how many streams the sender lets the peer hold
//                          open at once) || window (4 bytes, big-endian,
//                          16 KiB..16 MiB: each new stream's initial receive window
//                          the sender grants, per direction, in bytes)
//                          Each side sends one hello first; nothing else is
//                          sent before it, and a second one is a protocol error.
//   1     open    >= 1     empty. Client to server only: a new stream. Ids
//                          strictly increase over the channel's life (never reused).
//   2     data    >= 1     1..max_data bytes of the stream's data, within the window
//   3     window  >= 1     4 bytes, big-endian, 1..2^31-1: the receiver has taken
//                          that many more bytes out of its buffer; the sender's
//                          window grows by it (never above 2^31-1)
//   4     fin     >= 1     empty: the sender sends no more data on the stream
//                          (a half-close; the other direction goes on)
//   5     reset   >= 1     1 byte: a ResetReason (0 aborted, 1 refused). The stream is over both ways
//                          at once (its data in flight is dropped)
//   6     goaway  0        empty. Server to client only: open no new stream on
//                          this channel (its configuration was replaced: a
//                          new channel runs the new chain); the streams open
//                          go on, and an open already sent is still served
//
// The codec is pure (no I/O, no state beyond the bytes): the session
// (relay/multiplex/multiplexer.hpp) keeps the per-stream rules (ids, windows,
// order), the codec checks each frame on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>

#include <authchain/compose/bytes.hpp>

namespace authchain::mux {

enum class FrameType : std::uint8_t { hello = 0, open = 1, data = 2, window = 3, fin = 4, reset = 5, goaway = 6 };

// Why a stream was reset; what its reader sees (std::system_error with a
// matching errc, the text in the message).
enum class ResetReason : std::uint8_t {
    aborted = 0,              // its sender closed or aborted it (a TCP RST there)
    refused = 1,              // the server would not open it (more than its max_streams open)
};

inline constexpr std::size_t frame_header = 7;
inline constexpr std::size_t max_data = 16 * 1024;  // per data frame
inline constexpr std::uint8_t protocol_version = 1;
inline constexpr std::uint32_t max_window_limit = 0x7fffffff;  // 2^31-1
inline constexpr std::uint32_t min_initial_window = 16 * 1024;
inline constexpr std::uint32_t max_initial_window = 16 * 1024 * 1024;
inline constexpr std::uint32_t max_streams_limit = 1 << 20;
inline constexpr std::size_t hello_payload = 9;

struct Hello {
    std::uint32_t max_streams = 0;
    std::uint32_t window = 0;
    friend bool operator==(const Hello&, const Hello&) = default;
};

// One decoded frame. `payload` points into the decoded input.
struct Frame {
    FrameType type = FrameType::data;
    std::uint32_t stream = 0;
    ByteView payload{};
    // Decoded from the payload, by type:
    Hello hello{};                                  // hello
    std::uint32_t increment = 0;                    // window
    ResetReason reason = ResetReason::aborted;      // reset
};

// A frame the codec refuses (the channel is then broken: the session ends it).
class FrameError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Decodes the frame at the front of `input`: nullopt while it is incomplete,
// else the frame and its size on the wire. Throws FrameError for an unknown
// type, a stream id that does not fit the type (0 for hello, >= 1 otherwise),
// a length the type does not allow (open and fin: 0; data: 1..max_data;
// window: 4; reset: 1; hello: hello_payload), a window increment of 0 or
// above 2^31-1, an unknown reset reason, or a hello with another version or
// values out of range. It checks the header before waiting for the payload,
// so a bad length is refused at once.
std::optional<std::pair<Frame, std::size_t>> decode_frame(ByteView input);

// Appends one frame to `out`. Each throws std::invalid_argument for what
// decode_frame would refuse (an id of 0, data of 0 or more than max_data bytes, ...).
void encode_hello(Bytes& out, Hello hello);
void encode_open(Bytes& out, std::uint32_t stream);
void encode_data(Bytes& out, std::uint32_t stream, ByteView data);
void encode_window(Bytes& out, std::uint32_t stream, std::uint32_t increment);
void encode_fin(Bytes& out, std::uint32_t stream);
void encode_reset(Bytes& out, std::uint32_t stream, ResetReason reason);
void encode_goaway(Bytes& out);

std::string_view to_string(FrameType type);
std::string_view to_string(ResetReason reason);  // "aborted", "refused"

}  // namespace authchain::mux
