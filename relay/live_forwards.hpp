// LiveForwards: the forwards running now, so their owner can close them from
// outside: at shutdown, after a grace period. Thread-safe.
//
//     auto live = std::make_shared<LiveForwards>();
//     Server server(listener, chain, forward_to(backend, {.live = live}));
//     ...
//     server.stop();
//     co_await live->shutdown(10s);  // new forwards refused; the rest closed after 10 s
//
// A forward that is closed from outside ends with ForwardOutcome::closed;
// one that starts while the registry is stopping ends at once with
// ForwardOutcome::stopping (the client is closed, the backend never dialled).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace authchain {

// Owned by a std::shared_ptr (ForwardOptions::live holds one).
class LiveForwards : public std::enable_shared_from_this<LiveForwards> {
public:
    LiveForwards() = default;
    LiveForwards(const LiveForwards&) = delete;
    LiveForwards& operator=(const LiveForwards&) = delete;

    // How many forwards are registered now.
    std::size_t size() const;
    // From now on, forwards refuse to start.
    void stop();
    bool stopping() const;
    // Asks every live forward to close (posted to its executor).
    void close_all();
    // stop(); waits until no forward is left or `grace` has passed; then
    // closes those left and waits (up to 2 s) for them to unwind, so their
    // summaries are reported. Returns how many had to be closed.
    asio::awaitable<std::size_t> shutdown(std::chrono::steady_clock::duration grace);

    // For forward(): registers a forward running on `executor` (its strand);
    // `close` runs on that executor. The Guard unregisters on destruction;
    // destroy it on the same executor, before what `close` touches, and
    // before the LiveForwards.
    class Guard {
    public:
        Guard(LiveForwards* owner, std::uint64_t id, bool hook = false) : owner_(owner), id_(id), hook_(hook) {}
        Guard(Guard&& o) noexcept : owner_(o.owner_), id_(o.id_), hook_(o.hook_) { o.owner_ = nullptr; }
        Guard(const Guard&) = delete;
        Guard& operator=(const Guard&) = delete;
        Guard& operator=(Guard&&) = delete;
        ~Guard();

    private:
        LiveForwards* owner_;
        std::uint64_t id_;
        bool hook_;
    };
    Guard add(asio::any_io_executor executor, std::function<void()> close);

    // Runs `hook` on `executor` when stop() is first called (posted; at once
    // if it was already), while the Guard lives: what is not a forward but
    // should wind down with them (a MultiplexDialer retires its channels).
    // Not counted by size(); shutdown() does not wait for it.
    Guard on_stop(asio::any_io_executor executor, std::function<void()> hook);

private:
    struct Entry {
        asio::any_io_executor executor;
        std::function<void()> close;
    };
    mutable std::mutex mutex_;
    std::map<std::uint64_t, Entry> entries_;
    std::map<std::uint64_t, Entry> hooks_;
    std::uint64_t next_ = 0;
    bool stopping_ = false;
};

}  // namespace authchain
