#include <authchain/compose/event_loops.hpp>

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <stdexcept>

namespace authchain {

namespace {
// The pool and index of the loop this thread runs (set once, by run_loop).
thread_local const EventLoops* running_pool = nullptr;
thread_local std::size_t running_index = 0;
}  // namespace

std::size_t EventLoops::cores() noexcept { return std::max(1u, std::thread::hardware_concurrency()); }

EventLoops::EventLoops(std::size_t count) {
    if (count == 0) count = cores();
    loops_.reserve(count);
    guards_.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        loops_.push_back(std::make_unique<asio::io_context>(1));  // one thread runs it
        guards_.emplace_back(std::in_place, loops_.back()->get_executor());
    }
}

EventLoops::~EventLoops() {
    stop();
    // A loop thread destroying its own pool cannot join itself: detaching
    // would leave it running on freed memory, so that is a bug worth a crash.
    join();
}

asio::any_io_executor EventLoops::next() noexcept {
    std::size_t i = turn_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
    return loops_[i]->get_executor();
}

std::size_t EventLoops::index_of(const asio::any_io_executor& executor) const noexcept {
    if (!executor) return size();
    const asio::execution_context* context = &asio::query(executor, asio::execution::context);
    for (std::size_t i = 0; i < loops_.size(); ++i)
        if (context == static_cast<const asio::execution_context*>(loops_[i].get())) return i;
    return size();
}

std::size_t EventLoops::current() const noexcept { return running_pool == this ? running_index : size(); }

void EventLoops::start() {
    if (started_.exchange(true)) throw std::logic_error("EventLoops::start: already started");
    threads_.reserve(loops_.size());
    for (std::size_t i = 0; i < loops_.size(); ++i) threads_.emplace_back([this, i] { run_loop(i); });
}

void EventLoops::run_loop(std::size_t index) {
    running_pool = this;
    running_index = index;
    char name[16];
    std::snprintf(name, sizeof name, "loop-%zu", index % 100000);
    pthread_setname_np(pthread_self(), name);  // `top -H`, /proc/PID/task/*/comm
    asio::io_context& loop = *loops_[index];
    // A handler that throws must not take the loop (and every connection on
    // it) down: report it and keep running until stop().
    while (!loop.stopped()) {
        try {
            loop.run();
        } catch (const std::exception& e) {
            std::fprintf(stderr, "authchain: event loop %zu: a handler threw: %s\n", index, e.what());
        } catch (...) {
            std::fprintf(stderr, "authchain: event loop %zu: a handler threw a non-std exception\n", index);
        }
    }
    running_pool = nullptr;
}

void EventLoops::stop() noexcept {
    for (auto& loop : loops_) loop->stop();
}

void EventLoops::join() {
    if (running_pool == this) throw std::logic_error("EventLoops::join from one of its own loops");
    for (auto& thread : threads_)
        if (thread.joinable()) thread.join();
}

}  // namespace authchain
