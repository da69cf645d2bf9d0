// Signal: wakes the coroutines waiting on it (the waiters of the
// multiplexed channel and its streams, relay/multiplex/).
//
//     while (!ready()) co_await signal.wait();   // elsewhere: signal.notify();
//
// The wait is a timer's, so while a coroutine waits the io_context owns
// it, not the object that will wake it: an io_context destroyed with
// coroutines still waiting destroys them. A callback stored in the waking
// object instead would make a cycle with the coroutine (which keeps that
// object alive) and leak at shutdown. A notify() with no waiter is not
// kept: check the condition, then wait, in a loop (one thread: nothing can
// happen between the check and the wait).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/steady_timer.hpp>

#include <authchain/compose/detail/as_tuple_awaitable.hpp>

namespace authchain::detail {

class Signal {
public:
    explicit Signal(const asio::any_io_executor& executor)
        : timer_(executor, asio::steady_timer::time_point::max()) {}
    // Returns once notify() is called (or the wait is cancelled).
    asio::awaitable<void> wait() {
        auto [ignored] = co_await timer_.async_wait(as_tuple_awaitable);
        (void)ignored;
    }
    // Wakes every coroutine waiting now.
    void notify() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

}  // namespace authchain::detail
