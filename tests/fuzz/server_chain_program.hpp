// What fuzz_server_chain.cpp does to an honest client's writes: a program
// read from the fuzz input, applied by a Tap stream at two levels.
//
//   wire   the raw pipe under the client (Noise negotiation, handshake
//          frames, encrypted records as they travel);
//   inner  inside the secure channel (the plaintext messages of public_key,
//          any_of, password, psk, then the application data).
//
// Each write the client makes at a level (one write_all: one message or
// one record) takes the next op of that level's queue; once the queue is
// empty every write passes unchanged. So "PASS, PASS, FLIP" on the inner
// queue runs the honest client up to its third message and flips a bit of
// it, and the fuzzer gets past the Noise handshake without breaking it.
//
// Op encoding: one byte b, level = b >> 7 (0 wire, 1 inner), kind =
// (b & 0x7f) % op_kinds, then the kind's arguments (big-endian; a missing
// byte reads as 0):
//   pass                          write as is
//   flip      u16 pos, u8 bit      flip bit (bit % 8) of byte (pos % size)
//   truncate  u16 n               write the first n % (size + 1) bytes, then
//                                 end the level (inner: close record; wire:
//                                 end of stream); later writes fail
//   replace   u16 n, n bytes      write these bytes instead
//   insert    u16 n, n bytes      write these bytes, then the message
//   append    u16 n, n bytes      write the message, then these bytes
//   drop      -                   write nothing (the client thinks it did)
//   duplicate -                   write the message twice
//   hold      -                   keep it; write it after the next write of
//                                 the level (reorder), or before the level's
//                                 end of stream
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/error.hpp>

#include <authchain/compose/stream.hpp>

namespace authchain::fuzz {

enum class Level : std::uint8_t { wire = 0, inner = 1 };
enum class OpKind : std::uint8_t { pass, flip, truncate, replace, insert, append, drop, duplicate, hold };
inline constexpr std::uint8_t op_kinds = 9;
inline constexpr std::size_t max_ops_per_level = 64;

struct Op {
    OpKind kind = OpKind::pass;
    std::uint16_t number = 0;  // flip: position; truncate: length
    std::uint8_t bit = 0;      // flip
    Bytes bytes{};             // replace, insert, append
};

// Reads bytes off the fuzz input; past the end everything reads as 0.
class InputReader {
public:
    InputReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    bool done() const noexcept { return at_ >= size_; }
    std::uint8_t u8() { return at_ < size_ ? data_[at_++] : 0; }
    std::uint16_t u16() {
        auto hi = u8();
        return static_cast<std::uint16_t>(hi << 8 | u8());
    }
    Bytes take(std::size_t n) {
        n = std::min(n, size_ - std::min(at_, size_));
        Bytes out(data_ + at_, data_ + at_ + n);
        at_ += n;
        return out;
    }

private:
    const std::uint8_t* data_;
    std::size_t size_;
    std::size_t at_ = 0;
};

// The two queues of ops and what applying them left behind.
class Program {
public:
    // Parses ops until the input ends (at most max_ops_per_level per level).
    explicit Program(InputReader& in) {
        while (!in.done()) {
            std::uint8_t b = in.u8();
            Op op;
            op.kind = static_cast<OpKind>((b & 0x7f) % op_kinds);
            switch (op.kind) {
            case OpKind::flip: op.number = in.u16(); op.bit = in.u8() % 8; break;
            case OpKind::truncate: op.number = in.u16(); break;
            case OpKind::replace:
            case OpKind::insert:
            case OpKind::append: op.bytes = in.take(in.u16()); break;
            default: break;
            }
            auto& queue = queues_[b >> 7];
            if (queue.size() < max_ops_per_level) queue.push_back(std::move(op));
        }
    }

    // Writes `message` to `inner` as the level's next op says. Throws
    // std::system_error(broken_pipe) once the level was truncated.
    asio::awaitable<void> write(Level level, Stream& inner, ByteView message) {
        auto& state = levels_[static_cast<int>(level)];
        if (state.ended) throw std::system_error(asio::error::broken_pipe, "fuzz: truncated here");
        Op op = next(level);
        std::optional<Bytes> held = std::exchange(state.held, std::nullopt);
        switch (op.kind) {
        case OpKind::pass: co_await send(level, inner, message); break;
        case OpKind::flip: {
            Bytes copy(message.begin(), message.end());
            if (!copy.empty()) copy[op.number % copy.size()] ^= static_cast<std::uint8_t>(1u << op.bit);
            co_await send(level, inner, copy);
            ++changed_;
            break;
        }
        case OpKind::truncate: {
            std::size_t n = op.number % (message.size() + 1);
            co_await send(level, inner, message.first(n));
            if (held) co_await send(level, inner, *held);
            held.reset();
            state.ended = true;
            ++changed_;
            co_await inner.shutdown_send();
            break;
        }
        case OpKind::replace: co_await send(level, inner, op.bytes); ++changed_; break;
        case OpKind::insert:
            co_await send(level, inner, op.bytes);
            co_await send(level, inner, message);
            changed_ += !op.bytes.empty();
            break;
        case OpKind::append:
            co_await send(level, inner, message);
            co_await send(level, inner, op.bytes);
            changed_ += !op.bytes.empty();
            break;
        case OpKind::drop: ++changed_; break;
        case OpKind::duplicate:
            co_await send(level, inner, message);
            co_await send(level, inner, message);
            ++changed_;
            break;
        case OpKind::hold:
            // The one held before (if any) goes out now; this one waits.
            if (held) co_await send(level, inner, *held);
            held.reset();
            state.held = Bytes(message.begin(), message.end());
            ++changed_;
            break;
        }
        if (held) co_await send(level, inner, *held);
    }

    // Before the level's end of stream: what is held goes out first.
    asio::awaitable<void> flush(Level level, Stream& inner) {
        auto& state = levels_[static_cast<int>(level)];
        if (auto held = std::exchange(state.held, std::nullopt)) co_await send(level, inner, *held);
    }

    bool ended(Level level) const { return levels_[static_cast<int>(level)].ended; }
    // From now on, keep a copy of every byte the level passes on.
    void start_recording(Level level) { levels_[static_cast<int>(level)].recording = true; }
    const Bytes& recorded(Level level) const { return levels_[static_cast<int>(level)].recorded; }
    // How many ops changed what the peer receives (a pass changes nothing).
    std::size_t changed() const noexcept { return changed_; }

private:
    struct LevelState {
        std::optional<Bytes> held;
        bool ended = false;
        bool recording = false;
        Bytes recorded;
    };

    Op next(Level level) {
        auto& queue = queues_[static_cast<int>(level)];
        if (queue.empty()) return {};
        Op op = std::move(queue.front());
        queue.pop_front();
        return op;
    }

    asio::awaitable<void> send(Level level, Stream& inner, ByteView bytes) {
        if (bytes.empty()) co_return;
        co_await write_all(inner, asio::buffer(bytes.data(), bytes.size()));
        auto& state = levels_[static_cast<int>(level)];
        if (state.recording) state.recorded.insert(state.recorded.end(), bytes.begin(), bytes.end());
    }

    std::array<std::deque<Op>, 2> queues_;
    std::array<LevelState, 2> levels_;
    std::size_t changed_ = 0;
};

// A stream that passes reads through and sends each write through the
// program at its level. Everything else is the inner stream's.
class Tap final : public StreamImpl {
public:
    Tap(Stream inner, std::shared_ptr<Program> program, Level level)
        : inner_(std::move(inner)), program_(std::move(program)), level_(level) {}

    asio::any_io_executor get_executor() override { return inner_.get_executor(); }
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        co_return co_await inner_.read_some(buffer);
    }
    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        auto* p = static_cast<const std::uint8_t*>(buffer.data());
        co_await program_->write(level_, inner_, ByteView(p, buffer.size()));
        co_return buffer.size();
    }
    asio::awaitable<void> shutdown_send() override {
        if (program_->ended(level_)) co_return;
        co_await program_->flush(level_, inner_);
        co_await inner_.shutdown_send();
    }
    asio::awaitable<void> send_deny(DenyReason reason) override {
        if (!program_->ended(level_)) co_await program_->flush(level_, inner_);
        co_await inner_.send_deny(reason);
    }
    asio::awaitable<void> send_accept() override { co_await inner_.send_accept(); }
    asio::awaitable<void> receive_verdict() override { co_await inner_.receive_verdict(); }
    void close() noexcept override { inner_.close(); }
    void abort() noexcept override { inner_.abort(); }
    asio::ip::tcp::endpoint remote_endpoint() const override { return inner_.remote_endpoint(); }
    asio::ip::tcp::endpoint local_endpoint() const override { return inner_.local_endpoint(); }
    Protection protection() const override { return inner_.protection(); }

private:
    Stream inner_;
    std::shared_ptr<Program> program_;
    Level level_;
};

}  // namespace authchain::fuzz
