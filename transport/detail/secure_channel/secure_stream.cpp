#include <authchain/transport/detail/secure_channel/secure_stream.hpp>

#include <authchain/transport/detail/secure_channel/copy_forward.hpp>

#include <algorithm>
#include <asio/error.hpp>
#include <system_error>

namespace authchain::channel {

SecureStream::SecureStream(Stream inner, ChannelState state)
    : inner_(std::move(inner)), state_(std::move(state)) {
    state_.input.reserve(input_size);
}

Protection SecureStream::protection() const {
    return Protection{.confidential = true,
                      .peer_authenticated = false,
                      .channel_id = state_.handshake_hash,
                      .transport = state_.protocol_name};
}

void SecureStream::fail(DenyReason reason, std::string detail) {
    if (!failure_) failure_ = Failure{reason, detail};
    inner_.close();
    throw AuthenticationError(reason, std::move(detail));
}

void SecureStream::check_failed() const {
    if (failure_) throw AuthenticationError(failure_->reason, failure_->detail);
}

void SecureStream::check_writable() const {
    check_failed();
    if (send_closed_) throw std::system_error(asio::error::shut_down, "secure channel write after shutdown");
    if (send_broken_) throw std::system_error(asio::error::broken_pipe, "secure channel write after an error");
}

std::optional<Record> SecureStream::try_next_record(std::string_view at_end, bool read_inner) {
    for (;;) {
        std::optional<std::pair<Record, std::size_t>> decoded;
        try {
            decoded = state_.decoder.decode(state_.input.mutable_view());
        } catch (const AuthenticationError& e) {
            fail(e.reason(), e.detail());
        }
        if (decoded) {
            state_.input.consume(decoded->second);
            return decoded->first;
        }
        if (!read_inner) return std::nullopt;
        const std::optional<bool> more = state_.input.try_fill(inner_);
        if (!more) return std::nullopt;
        if (!*more) fail(DenyReason::protocol_error, std::string(at_end));
    }
}

asio::awaitable<Record> SecureStream::next_record(std::string_view at_end) {
    for (;;) {
        if (std::optional<Record> record = try_next_record(at_end, false)) co_return *record;
        if (!co_await state_.input.fill(inner_)) fail(DenyReason::protocol_error, std::string(at_end));
    }
}

namespace {
constexpr std::string_view truncated = "end of stream without a close record (truncated)";
}  // namespace

// Fills the caller's buffer from as many buffered records as fit, so a
// bulk reader gets one read (and writes out once) per inner read, not one
// per record; nullopt while it has nothing to return and no whole record
// is there. A record after the first that fails (a bad tag, a deny) ends
// this read with the bytes before it, which were authentic; failure_ is
// set, so the next read reports the failure.
std::optional<std::size_t> SecureStream::read_now(asio::mutable_buffer buffer, bool read_inner) {
    check_failed();
    if (buffer.size() == 0) return 0;
    auto* out = static_cast<std::uint8_t*>(buffer.data());
    std::size_t filled = 0;
    for (;;) {
        if (!pending_.empty()) {
            const std::size_t n = std::min(buffer.size() - filled, pending_.size());
            copy_forward(out + filled, pending_.data(), n);
            filled += n;
            pending_ = pending_.subspan(n);
            if (pending_.empty()) state_.input.release_if_empty();
        }
        if (filled == buffer.size() || peer_closed_ || (filled > 0 && !record_buffered())) return filled;
        // With bytes in hand a whole record is buffered: this reads nothing.
        try {
            std::optional<Record> record = try_next_record(truncated, read_inner);
            if (!record) return std::nullopt;
            take(*record);
        } catch (const AuthenticationError&) {
            if (filled == 0) throw;
            return filled;
        }
    }
}

std::optional<std::size_t> SecureStream::try_read_some(asio::mutable_buffer buffer) {
    return read_now(buffer, true);
}

// What is buffered first; the inner stream is awaited only when no whole
// record is.
asio::awaitable<std::size_t> SecureStream::read_some(asio::mutable_buffer buffer) {
    for (;;) {
        if (const std::optional<std::size_t> n = read_now(buffer, false)) co_return *n;
        if (!co_await state_.input.fill(inner_)) fail(DenyReason::protocol_error, std::string(truncated));
    }
}

// A record read_some decoded: data to hand out, or a control record acted on.
void SecureStream::take(const Record& record) {
    switch (record.type) {
        case RecordType::data: pending_ = record.body; break;
        case RecordType::close: peer_closed_ = true; break;
        case RecordType::deny: fail(record.reason, "refused by peer");
        case RecordType::rekey: state_.decoder.rekey(); break;
        case RecordType::accept:
            if (verdict_received_) fail(DenyReason::protocol_error, "a second accept record");
            verdict_received_ = true;
            break;
    }
}

bool SecureStream::record_buffered() const noexcept {
    const ByteView input = state_.input.view();
    if (input.size() < record_header) return false;
    const std::size_t length = static_cast<std::size_t>(input[0]) << 8 | input[1];
    return input.size() >= record_header + length;
}

void SecureStream::async_wait_readable(ReadableCallback ready) {
    if (failure_)
        return ready_now(std::move(ready),
                         std::make_exception_ptr(AuthenticationError(failure_->reason, failure_->detail)));
    if (!pending_.empty() || peer_closed_ || record_buffered()) return ready_now(std::move(ready));
    state_.input.release_if_empty();
    inner_.async_wait_readable(std::move(ready));
}

asio::awaitable<void> SecureStream::receive_verdict() {
    check_failed();
    if (verdict_received_ || !pending_.empty() || peer_closed_)
        fail(DenyReason::protocol_error, "no verdict from the server before its data");
    for (;;) {
        const Record record = co_await next_record("end of stream before the server's verdict");
        switch (record.type) {
            case RecordType::accept: verdict_received_ = true; co_return;
            case RecordType::deny: fail(record.reason, "refused by peer");
            case RecordType::rekey: state_.decoder.rekey(); break;
            case RecordType::data:
            case RecordType::close: fail(DenyReason::protocol_error, "no verdict from the server before its data");
        }
    }
}

void SecureStream::encode(Batch& batch, RecordType type, ByteView body) {
    try {
        batch.used += state_.encoder.encode(type, body, batch.buffer.span().subspan(batch.used));
        if (type != RecordType::data) return;
        ++records_since_rekey_;
        bytes_since_rekey_ += body.size();
        if (records_since_rekey_ >= state_.rekey_after_records || bytes_since_rekey_ >= state_.rekey_after_bytes) {
            batch.used += state_.encoder.encode(RecordType::rekey, {}, batch.buffer.span().subspan(batch.used));
            state_.encoder.rekey();
            records_since_rekey_ = bytes_since_rekey_ = 0;
        }
    } catch (const noise::NoiseError& e) {
        fail(DenyReason::protocol_error, std::string("cannot send: ") + e.what());
    }
}

asio::awaitable<void> SecureStream::send(Batch& batch) {
    try {
        co_await write_all(inner_, asio::buffer(batch.buffer.data() + batch.sent, batch.used - batch.sent));
    } catch (...) {
        // Part of a record may be out: nothing more can be sent after it.
        send_broken_ = true;
        batch.clear();
        throw;
    }
    batch.clear();
}

asio::awaitable<void> SecureStream::send_unsent() {
    if (output_pending()) co_await send(unsent_);
}

asio::awaitable<void> SecureStream::flush() {
    check_writable();
    co_await send_unsent();
}

SecureStream::Batch SecureStream::encode_data(asio::const_buffer buffer, std::size_t& taken) {
    const auto* data = static_cast<const std::uint8_t*>(buffer.data());
    // A small write is one record (and perhaps a rekey record after it).
    const bool small = buffer.size() <= max_record_data && record_size(buffer.size()) + record_size(0) <= small_batch;
    Batch batch = make_batch(small ? small_batch : full_batch);
    taken = 0;
    for (std::size_t i = 0; i < batch_records && taken < buffer.size(); ++i) {
        const std::size_t n = std::min(max_record_data, buffer.size() - taken);
        encode(batch, RecordType::data, {data + taken, n});
        taken += n;
    }
    return batch;
}

asio::awaitable<std::size_t> SecureStream::write_some(asio::const_buffer buffer) {
    check_writable();
    co_await send_unsent();
    if (buffer.size() == 0) co_return 0;
    std::size_t taken = 0;
    Batch batch = encode_data(buffer, taken);
    co_await send(batch);
    co_return taken;
}

// Once records are encoded they must all go out, in order: what the inner
// stream does not take now stays in unsent_ (the caller sees
// output_pending() and awaits flush()).
std::optional<std::size_t> SecureStream::try_write_some(asio::const_buffer buffer) {
    check_writable();
    if (output_pending()) return std::nullopt;
    if (buffer.size() == 0) return 0;
    std::size_t taken = 0;
    Batch batch = encode_data(buffer, taken);
    try {
        while (batch.sent < batch.used) {
            const std::optional<std::size_t> n =
                inner_.try_write_some(asio::buffer(batch.buffer.data() + batch.sent, batch.used - batch.sent));
            if (!n) break;
            batch.sent += *n;
        }
    } catch (...) {
        send_broken_ = true;
        throw;
    }
    if (batch.sent < batch.used) unsent_ = std::move(batch);
    return taken;
}

SecureStream::Batch SecureStream::make_batch(std::size_t size) { return Batch{PooledBuffer(size)}; }

SecureStream::Batch SecureStream::control(RecordType type, ByteView body) {
    Batch batch = make_batch(small_batch);
    encode(batch, type, body);
    return batch;
}

asio::awaitable<void> SecureStream::shutdown_send() {
    check_failed();
    if (send_closed_) co_return;
    check_writable();
    co_await send_unsent();
    Batch batch = control(RecordType::close, {});
    send_closed_ = true;
    co_await send(batch);
    co_await inner_.shutdown_send();
}

asio::awaitable<void> SecureStream::send_accept() {
    check_writable();
    co_await send_unsent();
    Batch batch = control(RecordType::accept, {});
    co_await send(batch);
}

asio::awaitable<void> SecureStream::send_deny(DenyReason reason) {
    // Best effort: a failed or closed channel cannot carry it.
    if (failure_ || send_closed_ || send_broken_) co_return;
    co_await send_unsent();
    const std::uint8_t body = static_cast<std::uint8_t>(reason);
    Batch batch = control(RecordType::deny, {&body, 1});
    send_closed_ = true;
    co_await send(batch);
    co_await inner_.shutdown_send();
}

}  // namespace authchain::channel
