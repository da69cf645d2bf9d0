#include <authchain/relay/live_forwards.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace authchain {

namespace {

// How long closed forwards get to unwind and report.
constexpr auto unwind_limit = std::chrono::seconds(2);

asio::awaitable<void> pause(std::chrono::milliseconds d) {
    asio::steady_timer t(co_await asio::this_coro::executor, d);
    co_await t.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
}

}  // namespace

LiveForwards::Guard::~Guard() {
    if (!owner_) return;
    std::lock_guard lock(owner_->mutex_);
    (hook_ ? owner_->hooks_ : owner_->entries_).erase(id_);
}

LiveForwards::Guard LiveForwards::add(asio::any_io_executor executor, std::function<void()> close) {
    std::lock_guard lock(mutex_);
    auto id = next_++;
    entries_.emplace(id, Entry{std::move(executor), std::move(close)});
    return Guard(this, id);
}

LiveForwards::Guard LiveForwards::on_stop(asio::any_io_executor executor, std::function<void()> hook) {
    std::lock_guard lock(mutex_);
    auto id = next_++;
    if (stopping_) asio::post(executor, hook);
    hooks_.emplace(id, Entry{std::move(executor), std::move(hook)});
    return Guard(this, id, true);
}

std::size_t LiveForwards::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

void LiveForwards::stop() {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    for (auto& [id, hook] : hooks_) asio::post(hook.executor, hook.close);
}

bool LiveForwards::stopping() const {
    std::lock_guard lock(mutex_);
    return stopping_;
}

void LiveForwards::close_all() {
    std::lock_guard lock(mutex_);
    for (auto& [id, entry] : entries_) {
        // Runs on the forward's strand; the forward may be gone by then.
        asio::post(entry.executor, [weak = weak_from_this(), id = id] {
            auto self = weak.lock();
            if (!self) return;
            std::function<void()> close;
            {
                std::lock_guard inner(self->mutex_);
                auto it = self->entries_.find(id);
                if (it == self->entries_.end()) return;
                close = it->second.close;
            }
            close();
        });
    }
}

asio::awaitable<std::size_t> LiveForwards::shutdown(std::chrono::steady_clock::duration grace) {
    using clock = std::chrono::steady_clock;
    stop();
    auto deadline = clock::now() + grace;
    while (size() > 0 && clock::now() < deadline) co_await pause(std::chrono::milliseconds(20));
    std::size_t left = size();
    if (left == 0) co_return 0;
    close_all();
    auto until = clock::now() + unwind_limit;
    while (size() > 0 && clock::now() < until) co_await pause(std::chrono::milliseconds(10));
    co_return left;
}

}  // namespace authchain
