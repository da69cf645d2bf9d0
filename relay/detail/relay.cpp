#include <authchain/relay/detail/relay.hpp>

#include <asio/co_spawn.hpp>
#include <optional>
#include <utility>
#include <string>

#include <authchain/compose/buffer_pool.hpp>

namespace authchain::detail {

namespace {

PumpSide other(PumpSide s) { return s == PumpSide::a ? PumpSide::b : PumpSide::a; }

// Outside the coroutine: g++ 12 can destroy a class temporary in a
// coroutine twice (PLATFORM.md).
void take_over(PooledBuffer& buffer, PooledBuffer& from) { buffer = std::move(from); }

// How many full buffers one fast burst copies before it lets the loop run
// other connections (a shorter read ends it anyway).
constexpr int fast_rounds = 16;

}  // namespace

Relay::Relay(Stream& a, Stream& b, const PumpOptions& options, const asio::any_io_executor& executor)
    : a_(a), b_(b), executor_(executor), done_(executor, clock::time_point::max()),
      buffer_size_(options.buffer_size == 0 ? 1 : options.buffer_size), idle_(options.idle_timeout) {}

void Relay::start() {
    if (idle_ > clock::duration::zero()) {
        watch_.emplace(executor_);
        ++outstanding_;
        arm_watch();
    }
    wait(PumpSide::a);
    wait(PumpSide::b);
}

void Relay::ended(PumpSide side) {
    if (summary_.first_closed == PumpSide::none) summary_.first_closed = side;
}

// The first failure wins; the aborted operations it causes on the other
// direction are consequences, not news. When the first failure is a read
// (the stream was cut, or its transport rejected the bytes), the other
// side is aborted, not closed: it must not take the cut for a clean end.
void Relay::failed(PumpSide side, std::string_view stage, std::string_view what, bool rejected) {
    if (!summary_.error) {
        summary_.error = true;
        summary_.error_text = std::string(to_string(side)) + ": " + std::string(stage) + ": " + std::string(what);
        if (rejected) summary_.rejected = side;
        ended(side);
        if (stage == "read") stream(other(side)).abort();
    }
    a_.close();
    b_.close();
}

// The same for a thrown error. Only a read can be rejected (a bad tag, a
// truncated stream, a deny).
void Relay::failed(PumpSide side, std::string_view stage, const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const AuthenticationError& e) {
        failed(side, stage, e.what(), stage == std::string_view("read"));
    } catch (const std::exception& e) {
        failed(side, stage, e.what(), false);
    } catch (...) {
        failed(side, stage, "unknown error", false);
    }
}

// A bufferless wait; a burst once bytes (or the end) are there. A wait that
// reports an error (the stream was closed or cut, or its transport failed)
// ends the direction without borrowing anything.
void Relay::wait(PumpSide side) {
    stream(side).async_wait_readable([this, side](const std::exception_ptr& error) {
        if (!error) return burst(side);
        failed(side, "read", error);
        direction_over();
    });
}

void Relay::burst(PumpSide side) {
    if (copy_now(side)) return;
    asio::co_spawn(executor_, copy(side), [this, side](const std::exception_ptr& error, bool over) {
        if (error) {
            failed(side, "read", error);
            over = true;
        }
        if (over)
            direction_over();
        else
            wait(side);
    });
}

// The fast path: copies while both streams move bytes without waiting.
// True when it is done with the burst (the direction waits again, or is
// over after a failure); false when copy() must go on from carry(side).
bool Relay::copy_now(PumpSide side) {
    Stream& from = stream(side);
    Stream& to = stream(other(side));
    Carry& rest = carry(side);
    // A failure ends the direction here, as copy() would.
    auto give_up = [&](PumpSide failing, std::string_view stage) {
        rest.buffer.release();
        failed(failing, stage, std::current_exception());
        direction_over();
        return true;
    };
    rest.buffer = PooledBuffer(buffer_size_);
    for (int round = 0; round < fast_rounds; ++round) {
        std::optional<std::size_t> n;
        try {
            n = from.try_read_some(asio::buffer(rest.buffer.data(), rest.buffer.size()));
        } catch (...) {
            return give_up(side, "read");
        }
        // Nothing whole to read yet, or the end to pass on: copy() awaits.
        if (!n || *n == 0) return false;
        last_read_ = clock::now();
        std::optional<std::size_t> written;
        try {
            written = to.try_write_some(asio::buffer(rest.buffer.data(), *n));
        } catch (...) {
            return give_up(other(side), "write");
        }
        count(side) += written.value_or(0);
        if (!written || *written < *n || to.output_pending()) {
            rest.begin = written.value_or(0);
            rest.end = *n;
            return false;
        }
        if (*n < rest.buffer.size()) break;
    }
    rest.buffer.release();
    wait(side);
    return true;
}

// Copies what is there (and, while reads fill the buffer, what follows)
// from `side` to the other side, with one buffer borrowed for the burst;
// first whatever the fast path left in carry(side). True when the
// direction is over: end of stream passed on, or a failure.
asio::awaitable<bool> Relay::copy(PumpSide side) {
    Stream& from = stream(side);
    Stream& to = stream(other(side));
    Carry& rest = carry(side);
    PooledBuffer buffer;
    PumpSide failing = side;
    std::string_view stage = "read";
    try {
        take_over(buffer, rest.buffer);  // copy_now always leaves it borrowed
        if (rest.end > 0) {
            failing = other(side), stage = "write";
            const std::size_t begin = std::exchange(rest.begin, 0), end = std::exchange(rest.end, 0);
            if (to.output_pending()) co_await to.flush();
            co_await write_all(to, asio::buffer(buffer.data() + begin, end - begin));
            count(side) += end - begin;
            // The read those bytes came from was short: drained for now.
            if (end < buffer.size()) co_return false;
        }
        for (;;) {
            failing = side, stage = "read";
            std::size_t n = co_await from.read_some(asio::buffer(buffer.data(), buffer.size()));
            if (n == 0) break;
            last_read_ = clock::now();
            failing = other(side), stage = "write";
            co_await write_all(to, asio::buffer(buffer.data(), n));
            count(side) += n;
            // Short: drained for now, back to a bufferless wait.
            if (n < buffer.size()) co_return false;
        }
        buffer.release();
        ended(side);
        failing = other(side), stage = "shutdown";
        co_await to.shutdown_send();
    } catch (const std::exception&) {
        failed(failing, stage, std::current_exception());
    }
    co_return true;
}

void Relay::direction_over() {
    if (--directions_ == 0 && watch_) watch_->cancel();
    settle();
}

// Closes both streams once nothing was read for idle_.
void Relay::arm_watch() {
    watch_->expires_at(last_read_ + idle_);
    watch_->async_wait([this](std::error_code) { watched(); });
}

void Relay::watched() {
    if (directions_ > 0 && clock::now() < last_read_ + idle_) {
        arm_watch();
        return;
    }
    if (directions_ > 0) {
        if (!summary_.error) {
            summary_.error = true;
            summary_.idle = true;
            summary_.error_text = "idle timeout: nothing read either way for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(idle_).count()) + " ms";
        }
        a_.close();
        b_.close();
    }
    settle();
}

void Relay::settle() {
    if (--outstanding_ == 0) done_.cancel();
}

}  // namespace authchain::detail
