// A fixed-capacity input buffer over a Stream: the secure channel reads the
// inner stream in large chunks and parses messages out of it. Bytes read
// past the handshake stay in the buffer and go on to the record layer.
#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain::channel {

class ReadBuffer {
public:
    // Starts with `initial` bytes of room and grows (doubling) up to `maximum`
    // when a message needs more.
    ReadBuffer(std::size_t initial, std::size_t maximum) : data_(initial), maximum_(maximum) {}
    // Makes room for `capacity` bytes at once, raising the maximum to it if
    // needed (the record layer's fixed buffer; `capacity` is a constant).
    void reserve(std::size_t capacity);

    ByteView view() const noexcept { return {data_.data() + begin_, end_ - begin_}; }
    // The same bytes, writable (records are decrypted in place).
    std::span<std::uint8_t> mutable_view() noexcept { return {data_.data() + begin_, end_ - begin_}; }
    void consume(std::size_t n) noexcept;
    // Reads at least one more byte from `stream` into the buffer (moving
    // unread bytes to the front when needed). Returns false at end of
    // stream. Throws AuthenticationError(protocol_error) when the buffer is
    // full at its maximum (the message being parsed is larger than that).
    asio::awaitable<bool> fill(Stream& stream);

    // Reads until `parse(view())` (returning std::optional<Parsed<T>>) yields a
    // message, consumes it and returns its value. An end of stream first is
    // a protocol_error naming `what`.
    template <class Parse>
    auto read_message(Stream& stream, Parse parse, std::string_view what)
        -> asio::awaitable<decltype(parse(ByteView{})->value)> {
        for (;;) {
            if (auto parsed = parse(view())) {
                consume(parsed->size);
                co_return std::move(parsed->value);
            }
            if (!co_await fill(stream))
                deny(DenyReason::protocol_error, "connection closed while reading " + std::string(what));
        }
    }

private:
    std::vector<std::uint8_t> data_;
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t maximum_;
};

}  // namespace authchain::channel
