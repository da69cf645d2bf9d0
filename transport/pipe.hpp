// An in-memory connected pair of Streams for unit tests, with fault injection.
//
//     auto [client, server] = authchain::make_pipe(executor);
//
// Both ends must be used from the same executor (single-threaded tests).
// Each direction holds at most `capacity` bytes (writers wait: backpressure).
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>
#include <cstddef>
#include <optional>
#include <utility>

#include <authchain/compose/listener.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain {

// Faults applied to the bytes flowing in one direction, as the reader sees them.
struct PipeFaults {
    bool one_byte_at_a_time = false;       // every read_some returns at most 1 byte
    std::optional<std::size_t> truncate_after{};  // then the reader sees end of stream
    std::optional<std::size_t> stall_after;     // then nothing more arrives (until cancelled)
};

struct PipeEnd {
    asio::ip::tcp::endpoint endpoint{asio::ip::make_address("127.0.0.1"), 40000};
    PipeFaults faults{};      // faults on the bytes this end READS
    Protection protection;  // what this end's protection() reports
};

struct PipeOptions {
    PipeEnd client{.endpoint = {asio::ip::make_address("127.0.0.1"), 40000}};
    PipeEnd server{.endpoint = {asio::ip::make_address("127.0.0.1"), 5000}};
    std::size_t capacity = 256 * 1024;
};

// Returns {client end, server end}. Each end's remote_endpoint() is the
// other end's `endpoint`.
std::pair<Stream, Stream> make_pipe(asio::any_io_executor executor, PipeOptions options = {});

// A Listener over pipes, to drive a Server in unit tests: connect() makes
// a pipe, queues its server end for accept() and returns the client end.
class PipeListener final : public Listener {
public:
    explicit PipeListener(asio::any_io_executor executor);
    ~PipeListener() override;
    Stream connect(PipeOptions options = {});
    asio::awaitable<Stream> accept() override;
    void close() noexcept override;

private:
    struct State;
    std::shared_ptr<State> state_;
};

}  // namespace authchain
