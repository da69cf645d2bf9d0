// The Stream a finished secure channel handshake yields: records over the
// inner stream (see record.hpp and secure_channel.md).
//
// Reading verifies every record before returning any of its bytes; a bad
// record, a raw end of stream without a close record, or a deny record fail
// the stream for good (the inner stream is closed, every later read throws
// the same AuthenticationError). Writing cuts the buffer into records of at
// most max_record_data bytes, up to `batch_records` of them per inner write.
//
// Memory: the input buffer and the output batch are borrowed from the
// per-thread pool (compose/buffer_pool.hpp) only while bytes are in them;
// an idle stream (nothing buffered) holds neither.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <authchain/compose/buffer_pool.hpp>
#include <authchain/compose/stream.hpp>
#include <authchain/transport/detail/secure_channel/read_buffer.hpp>
#include <authchain/transport/detail/secure_channel/record.hpp>

namespace authchain::channel {

// What the handshake hands over to the stream.
struct ChannelState {
    RecordEncoder encoder;
    RecordDecoder decoder;
    ReadBuffer input;              // may already hold records read with the handshake
    Bytes handshake_hash;          // channel id
    std::string protocol_name;     // "Noise_NN_25519_AESGCM_SHA256"
    std::uint64_t rekey_after_records;  // sender-side limits (see secure_channel.md)
    std::uint64_t rekey_after_bytes;
};

class SecureStream final : public StreamImpl {
public:
    static constexpr std::size_t batch_records = 4;
    // The output batch borrowed per write: a small one for a small write, a
    // whole batch otherwise (each data record may be followed by a rekey).
    static constexpr std::size_t small_batch = 16 * 1024;
    static constexpr std::size_t full_batch = batch_records * (max_record + record_size(0));
    // The input buffer: room for two whole records.
    static constexpr std::size_t input_size = 2 * max_record;

    SecureStream(Stream inner, ChannelState state);

    asio::any_io_executor get_executor() override { return inner_.get_executor(); }
    // Returns decrypted data; 0 only after the peer's close record.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override;
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override;
    // Ready at once when decrypted bytes, a whole record or the peer's
    // close are buffered (or the stream failed); else gives the input buffer
    // back and waits on the inner stream.
    void async_wait_readable(ReadableCallback ready) override;
    // Sends a close record, then half-closes the inner stream.
    asio::awaitable<void> shutdown_send() override;
    // Sends a deny record carrying `reason`, then half-closes the inner stream.
    asio::awaitable<void> send_deny(DenyReason reason) override;
    // Sends an accept record (the server's verdict on its whole chain).
    asio::awaitable<void> send_accept() override;
    // Reads the next record, which must be the server's verdict: returns on
    // accept; a deny fails the stream with its reason; data, a close or the
    // end of the stream first is a protocol error.
    asio::awaitable<void> receive_verdict() override;
    void close() noexcept override { inner_.close(); }
    asio::ip::tcp::endpoint remote_endpoint() const override { return inner_.remote_endpoint(); }
    asio::ip::tcp::endpoint local_endpoint() const override { return inner_.local_endpoint(); }
    // confidential, not peer-authenticated, channel_id = handshake hash.
    Protection protection() const override;

private:
    struct Failure {
        DenyReason reason;
        std::string detail;
    };
    [[noreturn]] void fail(DenyReason reason, std::string detail);
    void check_failed() const;
    void check_writable() const;
    // A batch being written: records encoded into a pooled buffer.
    struct Batch {
        PooledBuffer buffer;
        std::size_t used = 0;
    };
    // Encodes one record into `batch` and counts it towards the rekey limits;
    // past a limit, appends a rekey record and switches to the next key.
    void encode(Batch& batch, RecordType type, ByteView body);
    // Writes the batch out; its buffer goes back to the pool after.
    asio::awaitable<void> flush(Batch& batch);
    // A batch borrowing `size` bytes (a plain function: no class temporary
    // in a coroutine, which g++ 12 can destroy twice, PLATFORM.md).
    static Batch make_batch(std::size_t size);
    // A batch holding one control record (close, deny, accept).
    Batch control(RecordType type, ByteView body);
    // A whole record is buffered in the input.
    bool record_buffered() const noexcept;
    void take(const Record& record);
    // The next record, tag verified and consumed from the input; its body
    // points into the input and stays valid until the next read. The end of
    // the inner stream first fails the stream with `at_end`.
    asio::awaitable<Record> next_record(std::string_view at_end);

    Stream inner_;
    ChannelState state_;
    // Data of the last record not yet returned: it lies in state_.input,
    // which is only refilled (and compacted) once this is empty.
    ByteView pending_;
    bool peer_closed_ = false;
    bool verdict_received_ = false;
    bool send_closed_ = false;
    bool send_broken_ = false;
    std::optional<Failure> failure_;
    std::uint64_t records_since_rekey_ = 0;
    std::uint64_t bytes_since_rekey_ = 0;
};

}  // namespace authchain::channel
