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
    // The input buffer: room for four whole records, so that moving a
    // partial record to the front (ReadBuffer::room) happens once per three
    // or four records read in bulk, not once per record or two. Borrowed only
    // while bytes are buffered: an idle connection holds none.
    static constexpr std::size_t input_size = 4 * max_record;

    SecureStream(Stream inner, ChannelState state);

    asio::any_io_executor get_executor() override { return inner_.get_executor(); }
    // Returns decrypted data; 0 only after the peer's close record.
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override;
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override;
    // The fast path (StreamImpl::try_read_some): read_some with only the
    // records already buffered or what the inner stream has now.
    std::optional<std::size_t> try_read_some(asio::mutable_buffer buffer) override;
    // Encodes as write_some does and sends what the inner stream takes now;
    // the rest of the records, if any, stays pending for flush().
    std::optional<std::size_t> try_write_some(asio::const_buffer buffer) override;
    bool output_pending() const noexcept override { return unsent_.used > unsent_.sent; }
    asio::awaitable<void> flush() override;
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
    // A batch being written: records encoded into a pooled buffer, the
    // first `sent` bytes of them written out.
    struct Batch {
        PooledBuffer buffer;
        std::size_t used = 0;
        std::size_t sent = 0;
        // Gives the buffer back to the pool (sent or not: after a failed write nothing more goes out).
        void clear() noexcept {
            buffer.release();
            used = sent = 0;
        }
    };
    // Encodes up to batch_records data records from `buffer` (how many
    // bytes they carry goes to `taken`).
    Batch encode_data(asio::const_buffer buffer, std::size_t& taken);
    // Encodes one record into `batch` and counts it towards the rekey limits;
    // past a limit, appends a rekey record and switches to the next key.
    void encode(Batch& batch, RecordType type, ByteView body);
    // Writes the rest of the batch out; its buffer goes back to the pool after.
    asio::awaitable<void> send(Batch& batch);
    // Sends what an earlier try_write_some left pending (a no-op if nothing).
    asio::awaitable<void> send_unsent();
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
    // As next_record, without waiting: nullopt when no whole record is
    // buffered and (with `read_inner`) the inner stream has none now either.
    std::optional<Record> try_next_record(std::string_view at_end, bool read_inner);
    // read_some without waiting (try_read_some, and each turn of read_some).
    std::optional<std::size_t> read_now(asio::mutable_buffer buffer, bool read_inner);

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
    // Records try_write_some encoded but the inner stream did not take yet.
    Batch unsent_;
};

}  // namespace authchain::channel
