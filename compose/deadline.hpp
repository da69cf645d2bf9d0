// Deadline: the one deadline idiom of authchain. If `limit` passes before
// the Deadline is cancelled or destroyed, `on_expiry` runs once, on the
// given executor. What it does is the caller's choice; the usual one is to
// close the stream (or socket) the work is waiting on, which aborts any
// transport, including ones that ignore per-operation cancellation.
//
//     Deadline deadline(executor, 10s, [&stream] { stream.close(); });
//     co_await read_exact(stream, buffer);          // aborted at the deadline
//     if (deadline.expired()) deny(DenyReason::timeout, "...");
//
// Use it from one strand: cancel(), the destructor and the expiry run on
// that strand, so after cancel() returns `on_expiry` never runs.
#pragma once

#include <asio/any_io_executor.hpp>
#include <chrono>
#include <functional>
#include <memory>

namespace authchain {

class Deadline {
public:
    Deadline(asio::any_io_executor executor, std::chrono::steady_clock::duration limit,
             std::function<void()> on_expiry);
    ~Deadline();
    Deadline(const Deadline&) = delete;
    Deadline& operator=(const Deadline&) = delete;

    // True once the limit passed (and on_expiry ran).
    bool expired() const noexcept;
    // Disarms it; idempotent.
    void cancel() noexcept;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace authchain
