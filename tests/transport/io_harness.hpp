// Helpers for Stream tests on a real io_context: spawn an operation and see
// whether it is done, run the loop until it is (bounded), a connected pair
// of TCP Streams on 127.0.0.1, and what the kernel holds for a socket.
#pragma once

#include <doctest/doctest.h>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <sys/ioctl.h>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include <authchain/compose/stream.hpp>
#include <authchain/transport/tcp.hpp>

namespace authchain::test::io_harness {

// The outcome of a spawned operation, completed on the io_context's thread
// (a use_future completion may land on another thread, after a check).
struct Done {
    bool done = false;
    std::exception_ptr error;
    std::size_t value = 0;
    std::size_t get() const {
        if (error) std::rethrow_exception(error);
        return value;
    }
};
using Op = std::shared_ptr<Done>;

template <class T>
Op start(asio::io_context& io, asio::awaitable<T> op) {
    auto d = std::make_shared<Done>();
    asio::co_spawn(io, std::move(op), [d](std::exception_ptr e, auto... v) {
        d->done = true;
        d->error = e;
        ((d->value = static_cast<std::size_t>(v)), ...);
    });
    return d;
}

inline bool ready(const Op& op) { return op->done; }

// Runs `io` until nothing is ready to run (bounded in rounds): what waits then waits for I/O.
inline void settle(asio::io_context& io) {
    int rounds = 0;
    io.restart();
    while (io.poll() > 0 && ++rounds < 100'000) io.restart();
    REQUIRE(rounds < 100'000);
}

// Runs `io` (bounded: 2,000 rounds of at most 5 ms) until `op` is done.
inline bool run_until(asio::io_context& io, const Op& op) {
    for (int i = 0; i < 2000 && !op->done; ++i) {
        io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return op->done;
}

// A connected pair of TCP Streams on 127.0.0.1; `server_fd` gets the
// receiving socket's descriptor (to see what the kernel holds).
inline std::pair<Stream, Stream> tcp_pair(asio::io_context& io, int& server_fd) {
    asio::ip::tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket client(io), server(io);
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    server_fd = server.native_handle();
    return {tcp_stream(std::move(client)), tcp_stream(std::move(server))};
}

inline std::pair<Stream, Stream> tcp_pair(asio::io_context& io) {
    int unused = -1;
    return tcp_pair(io, unused);
}

// A connected pair on 127.0.0.1 whose kernel buffers are small (16 KiB
// asked for each way), so that a few writes fill them.
inline std::pair<Stream, Stream> small_buffer_pair(asio::io_context& io) {
    const asio::ip::tcp::endpoint any{asio::ip::make_address("127.0.0.1"), 0};
    asio::ip::tcp::acceptor acceptor(io);
    acceptor.open(any.protocol());
    acceptor.set_option(asio::socket_base::receive_buffer_size(16 * 1024));  // inherited by the accepted socket
    acceptor.bind(any);
    acceptor.listen();
    asio::ip::tcp::socket client(io), server(io);
    client.open(any.protocol());
    client.set_option(asio::socket_base::send_buffer_size(16 * 1024));
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    return {tcp_stream(std::move(client)), tcp_stream(std::move(server))};
}

// Waits (bounded: 2 s) until the kernel holds `bytes` unread bytes on `fd`.
inline bool kernel_holds(int fd, int bytes) {
    int queued = 0;
    for (int i = 0; i < 2000; ++i) {
        if (::ioctl(fd, FIONREAD, &queued) == 0 && queued >= bytes) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return false;
}

inline Op spawn_read(asio::io_context& io, Stream& s, asio::mutable_buffer b) { return start(io, s.read_some(b)); }

// One read_some of at most `size` bytes, run to completion: what it read.
inline std::string read_now(asio::io_context& io, Stream& s, std::size_t size) {
    std::string buf(size, '\0');
    auto n = spawn_read(io, s, asio::buffer(buf));
    REQUIRE(run_until(io, n));
    buf.resize(n->get());
    return buf;
}

inline void write_now(asio::io_context& io, Stream& s, const std::string& data) {
    auto w = start(io, write_all(s, asio::buffer(data)));
    REQUIRE(run_until(io, w));
    w->get();
}

}  // namespace authchain::test::io_harness
