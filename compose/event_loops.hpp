// EventLoops: an event loop per core, as HAProxy and Envoy run them.
//
//     authchain::EventLoops loops;                      // one loop per core
//     authchain::LoopListener listener(loops.executor(0), "127.0.0.1", 7000);
//     authchain::Server server(listener, chain, handler, {.loops = &loops});
//     asio::co_spawn(loops.executor(0), server.run(), asio::detached);
//     loops.start();                                    // one thread per loop
//     ...
//     loops.stop();
//     loops.join();
//
// A small pool of io_contexts, each created with concurrency hint 1 and run
// by exactly one thread of its own. The Server gives each accepted
// connection to the next loop in turn (ServerOptions::loops); a listener
// that can (LoopListener, relay/loop_listener.hpp; the `authchain` command's
// listener) accepts the socket onto that loop, so the connection lives
// there for its whole life: its socket, its timers, its handshake and its
// handler run on that one thread. The data path then takes no lock and
// crosses no thread (no strand is needed on a loop: it has one thread), and
// an Asio reactor sees each descriptor from one thread only.
//
// What connections share (handshake slots, connection_limit,
// failure_throttle, the audit log, metrics) is guarded by the objects that
// hold it; those are touched per connection, not per read or write.
//
// Life: start() once; stop() from any thread (a loop's own included) asks
// every loop to return; join() waits for their threads (not from one of
// them). The destructor stops and joins, then destroys the io_contexts and
// with them what is still queued on them (coroutine frames included), so
// objects those frames refer to must outlive the EventLoops.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <atomic>
#include <cstddef>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace authchain {

class EventLoops {
public:
    // `count` loops; 0: one per core (std::thread::hardware_concurrency(),
    // at least 1).
    explicit EventLoops(std::size_t count = 0);
    ~EventLoops();
    EventLoops(const EventLoops&) = delete;
    EventLoops& operator=(const EventLoops&) = delete;

    std::size_t size() const noexcept { return loops_.size(); }
    asio::io_context& context(std::size_t index) { return *loops_.at(index); }
    asio::any_io_executor executor(std::size_t index) { return context(index).get_executor(); }

    // The loop for the next connection: each loop in turn. Thread-safe.
    asio::any_io_executor next() noexcept;

    // Which loop `executor` runs on (any executor of a loop's io_context,
    // a strand on it included), or size() if none of these.
    std::size_t index_of(const asio::any_io_executor& executor) const noexcept;
    bool owns(const asio::any_io_executor& executor) const noexcept { return index_of(executor) < size(); }
    // The loop the calling thread runs, or size() when it runs none of these.
    std::size_t current() const noexcept;

    // Starts one thread per loop, named "loop-N" (its index). Each loop
    // runs until stop(), with or without work. Once only; throws std::logic_error on a second call.
    void start();
    // Asks every loop to return as soon as its current handler is done;
    // queued work stays queued. Thread-safe, idempotent.
    void stop() noexcept;
    // Waits until every loop thread has returned. Not from a loop thread
    // (throws std::logic_error). Idempotent.
    void join();

    // The default count: std::thread::hardware_concurrency(), at least 1.
    static std::size_t cores() noexcept;

private:
    using Guard = asio::executor_work_guard<asio::io_context::executor_type>;
    void run_loop(std::size_t index);

    std::vector<std::unique_ptr<asio::io_context>> loops_;
    std::vector<std::optional<Guard>> guards_;
    std::vector<std::thread> threads_;
    std::atomic<std::size_t> turn_{0};
    std::atomic<bool> started_{false};
};

}  // namespace authchain
