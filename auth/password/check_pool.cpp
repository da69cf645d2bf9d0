#include <authchain/auth/password/check_pool.hpp>

#include <authchain/compose/cidr.hpp>
#include <authchain/compose/detail/as_tuple_awaitable.hpp>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>

namespace authchain {

namespace {

// One attempt waiting for a slot: its timer fires at the end of the wait,
// or is cancelled early by the release that hands it a slot.
struct Waiter {
    Waiter(asio::any_io_executor executor, std::optional<asio::ip::address> source)
        : timer(executor), source(std::move(source)) {}
    asio::steady_timer timer;
    std::optional<asio::ip::address> source;
    bool granted = false;  // under State::mutex
};

std::size_t checked_size(std::size_t max_concurrent) {
    if (max_concurrent < 1 || max_concurrent > 64)
        throw std::invalid_argument("max_concurrent_checks " + std::to_string(max_concurrent) +
                                    " out of range 1..64");
    return max_concurrent;
}

asio::awaitable<bool> run_verify(userdb::Secret password, std::string phc) {
    co_return userdb::verify_password(std::string_view(password.data(), password.size()), phc);
}

}  // namespace

struct PasswordCheckPool::State {
    std::size_t max_concurrent = 1;
    std::size_t max_waiting = 16;
    std::size_t max_per_source = 1;
    mutable std::mutex mutex;
    std::size_t in_use = 0;
    std::deque<std::shared_ptr<Waiter>> waiters;
    std::map<asio::ip::address, std::size_t> per_source;  // slots held and places waited for

    // Counts a place for `source`; false when it holds its share. Under mutex.
    bool take(const std::optional<asio::ip::address>& source) {
        if (!source) return true;
        std::size_t& n = per_source[*source];
        if (n >= max_per_source) return false;
        ++n;
        return true;
    }
    void give_back(const std::optional<asio::ip::address>& source) {
        if (!source) return;
        auto it = per_source.find(*source);
        if (it != per_source.end() && --it->second == 0) per_source.erase(it);
    }
};

PasswordCheckPool::PasswordCheckPool(std::size_t max_concurrent, std::size_t max_waiting)
    : state_(std::make_shared<State>()), threads_(checked_size(max_concurrent)) {
    state_->max_concurrent = max_concurrent;
    state_->max_waiting = max_waiting == 0 ? 16 * max_concurrent : max_waiting;
    state_->max_per_source = std::max<std::size_t>(1, (state_->max_concurrent + state_->max_waiting) / 2);
}

PasswordCheckPool::~PasswordCheckPool() { threads_.join(); }

PasswordCheckPool::Slot& PasswordCheckPool::Slot::operator=(Slot&& other) noexcept {
    if (this != &other) {
        release();
        state_ = std::move(other.state_);
        source_ = std::move(other.source_);
    }
    return *this;
}

PasswordCheckPool::Slot::~Slot() { release(); }

void PasswordCheckPool::Slot::release() noexcept {
    if (!state_) return;
    std::lock_guard lock(state_->mutex);
    state_->give_back(source_);
    if (state_->waiters.empty()) {
        --state_->in_use;
    } else {
        // Hand the slot over (in_use unchanged) and wake the waiter on its executor.
        std::shared_ptr<Waiter> next = std::move(state_->waiters.front());
        state_->waiters.pop_front();
        next->granted = true;
        asio::post(next->timer.get_executor(), [next] { next->timer.cancel(); });
    }
    state_.reset();
}

std::optional<PasswordCheckPool::Slot> PasswordCheckPool::try_acquire(std::optional<asio::ip::address> source) {
    if (source) source = source_of(*source);
    std::lock_guard lock(state_->mutex);
    if (state_->in_use >= state_->max_concurrent || !state_->take(source)) return std::nullopt;
    ++state_->in_use;
    return Slot(state_, std::move(source));
}

asio::awaitable<std::optional<PasswordCheckPool::Slot>> PasswordCheckPool::acquire(
    std::chrono::milliseconds wait, std::optional<asio::ip::address> source) {
    if (source) source = source_of(*source);
    auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor, source);
    {
        std::lock_guard lock(state_->mutex);
        if (!state_->take(source)) co_return std::nullopt;  // this source holds its share
        if (state_->in_use < state_->max_concurrent) {
            ++state_->in_use;
            co_return Slot(state_, source);
        }
        if (wait <= std::chrono::milliseconds::zero() || state_->waiters.size() >= state_->max_waiting) {
            state_->give_back(source);
            co_return std::nullopt;
        }
        waiter->timer.expires_after(wait);
        state_->waiters.push_back(waiter);
    }
    (void)co_await waiter->timer.async_wait(as_tuple_awaitable);
    std::lock_guard lock(state_->mutex);
    if (waiter->granted) co_return Slot(state_, source);  // its place counted on
    std::erase(state_->waiters, waiter);
    state_->give_back(source);
    co_return std::nullopt;
}

asio::awaitable<bool> PasswordCheckPool::verify(userdb::Secret password, std::string phc) {
    // Named first: g++ 12 may destroy a class temporary of a co_await expression twice.
    asio::awaitable<bool> work = run_verify(std::move(password), std::move(phc));
    bool ok = co_await asio::co_spawn(threads_.get_executor(), std::move(work), asio::use_awaitable);
    co_return ok;
}

std::size_t PasswordCheckPool::max_concurrent() const noexcept { return state_->max_concurrent; }

std::size_t PasswordCheckPool::max_per_source() const noexcept { return state_->max_per_source; }

std::size_t PasswordCheckPool::in_use() const {
    std::lock_guard lock(state_->mutex);
    return state_->in_use;
}

std::size_t PasswordCheckPool::waiting() const {
    std::lock_guard lock(state_->mutex);
    return state_->waiters.size();
}

}  // namespace authchain
