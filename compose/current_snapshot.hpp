// CurrentSnapshot<T>: the state a layer reads at each handshake, replaced
// whole on reload (SIGHUP).
//
//     CurrentSnapshot<Keys> keys_{load()};
//     void reload() { keys_.replace(load()); }   // load() throws first: nothing changes
//     auto k = keys_.get();                       // one consistent snapshot per handshake
//
// A handshake holds the snapshot it started with (a shared_ptr) until it
// ends, so a reload never mixes old and new files inside one handshake.
// Safe from any thread.
#pragma once

#include <memory>
#include <mutex>

namespace authchain {

template <class T>
class CurrentSnapshot {
public:
    CurrentSnapshot() = default;  // empty: get() returns null until the first replace()
    explicit CurrentSnapshot(std::shared_ptr<const T> first) : current_(std::move(first)) {}

    std::shared_ptr<const T> get() const {
        std::lock_guard lock(mutex_);
        return current_;
    }
    void replace(std::shared_ptr<const T> fresh) {
        std::lock_guard lock(mutex_);
        current_ = std::move(fresh);
    }

private:
    mutable std::mutex mutex_;
    std::shared_ptr<const T> current_;
};

}  // namespace authchain
