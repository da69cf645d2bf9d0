// An input buffer over a Stream: the secure channel reads the inner stream
// in large chunks and parses messages out of it. Bytes read past the
// handshake stay in the buffer and go on to the record layer.
//
// The storage is borrowed from the per-thread pool (compose/buffer_pool.hpp)
// when a read needs it and can be given back whenever no bytes are held, so
// an idle connection holds no input buffer.
#pragma once

#include <asio/awaitable.hpp>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>

#include <authchain/compose/buffer_pool.hpp>
#include <authchain/compose/bytes.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain::channel {

class ReadBuffer {
public:
    // Reads into `initial` bytes of room, grown (doubling) up to `maximum`
    // when a message needs more.
    ReadBuffer(std::size_t initial, std::size_t maximum) : capacity_(initial), maximum_(maximum) {}
    // Reads into `capacity` bytes of room from now on, raising the maximum
    // to it if needed (the record layer's buffer; `capacity` is a constant).
    void reserve(std::size_t capacity);

    ByteView view() const noexcept { return {data_.data() + begin_, end_ - begin_}; }
    // The same bytes, writable (records are decrypted in place).
    std::span<std::uint8_t> mutable_view() noexcept { return {data_.data() + begin_, end_ - begin_}; }
    bool empty() const noexcept { return begin_ == end_; }
    void consume(std::size_t n) noexcept;
    // Gives the storage back to the pool if no bytes are held (the caller
    // must hold no view into it either); the next fill() borrows again.
    void release_if_empty() noexcept;
    // Reads at least one more byte from `stream` into the buffer (moving
    // unread bytes to the front when needed). Returns false at end of
    // stream. Throws AuthenticationError(protocol_error) when the buffer is
    // full at its maximum (the message being parsed is larger than that).
    asio::awaitable<bool> fill(Stream& stream);
    // As fill(), without waiting (Stream::try_read_some): nullopt when the
    // stream has nothing to read now.
    std::optional<bool> try_fill(Stream& stream);

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
    // Borrows capacity_ bytes (not inline in fill(): g++ 12 can destroy a
    // class temporary in a coroutine twice, PLATFORM.md).
    void borrow();
    // Moves the unread bytes into a new buffer of `size` bytes.
    void regrow(std::size_t size);
    // The free room the next read fills (borrowed, compacted or grown first).
    asio::mutable_buffer room();

    PooledBuffer data_;
    std::size_t capacity_;  // the size borrowed next
    std::size_t begin_ = 0;
    std::size_t end_ = 0;
    std::size_t maximum_;
};

}  // namespace authchain::channel
