#include <authchain/compose/deadline.hpp>

#include <asio/steady_timer.hpp>

namespace authchain {

struct Deadline::State {
    asio::steady_timer timer;
    std::function<void()> on_expiry;
    bool armed = true;
    bool expired = false;
    State(asio::any_io_executor executor, std::function<void()> f)
        : timer(executor), on_expiry(std::move(f)) {}
};

Deadline::Deadline(asio::any_io_executor executor, std::chrono::steady_clock::duration limit,
                   std::function<void()> on_expiry)
    : state_(std::make_shared<State>(std::move(executor), std::move(on_expiry))) {
    state_->timer.expires_after(limit);
    // The handler owns the state: it may run after the Deadline is gone
    // (a cancel racing with an expiry already queued), and then does nothing.
    state_->timer.async_wait([state = state_](std::error_code ec) {
        if (ec || !state->armed) return;
        state->armed = false;
        state->expired = true;
        auto f = std::move(state->on_expiry);
        if (f) f();
    });
}

Deadline::~Deadline() { cancel(); }

bool Deadline::expired() const noexcept { return state_->expired; }

void Deadline::cancel() noexcept {
    if (!state_->armed) return;
    state_->armed = false;
    state_->on_expiry = nullptr;
    state_->timer.cancel();
}

}  // namespace authchain
