#include <authchain/transport/pipe.hpp>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <deque>
#include <optional>

namespace authchain {

namespace {

// Wakes the coroutine waiting on it (at most one reader, one writer each).
class Signal {
public:
    explicit Signal(asio::any_io_executor ex) : timer_(ex, asio::steady_timer::time_point::max()) {}
    asio::awaitable<void> wait() {
        auto [ec] = co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
        (void)ec;  // cancel() is the wake-up
        auto cs = co_await asio::this_coro::cancellation_state;
        if (cs.cancelled() != asio::cancellation_type::none)
            throw std::system_error(asio::error::operation_aborted, "pipe");
    }
    void notify() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

// One direction of the pipe: bytes written by one end, read by the other.
struct Direction {
    Direction(asio::any_io_executor ex, std::size_t cap, PipeFaults f)
        : capacity(cap), faults(f), readable(ex), writable(ex) {}
    std::deque<std::uint8_t> data;
    std::size_t capacity;
    PipeFaults faults;
    std::size_t delivered = 0;   // bytes handed to the reader so far
    bool end_of_data = false;    // writer shut down or closed
    bool reader_gone = false;    // reader closed: writes fail
    Signal readable, writable;
};

struct Shared {
    Shared(asio::any_io_executor ex, const PipeOptions& o)
        : to_server(ex, o.capacity, o.server.faults), to_client(ex, o.capacity, o.client.faults) {}
    Direction to_server, to_client;
};

class PipeStream final : public StreamImpl {
public:
    PipeStream(asio::any_io_executor ex, std::shared_ptr<Shared> shared, Direction& in, Direction& out,
               Protection protection, asio::ip::tcp::endpoint remote, asio::ip::tcp::endpoint local)
        : ex_(std::move(ex)), shared_(std::move(shared)), in_(in), out_(out),
          protection_(std::move(protection)), remote_(remote), local_(local) {}
    ~PipeStream() override { close(); }

    asio::any_io_executor get_executor() override { return ex_; }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        for (;;) {
            if (const std::optional<std::size_t> n = try_read_some(buffer)) co_return *n;
            co_await in_.readable.wait();
        }
    }

    // What read_some returns without waiting; nullopt while it would wait
    // (no bytes yet, or stalled by a fault).
    std::optional<std::size_t> try_read_some(asio::mutable_buffer buffer) override {
        if (buffer.size() == 0) return 0;
        check_open();
        const auto& f = in_.faults;
        if (f.truncate_after && in_.delivered >= *f.truncate_after) return 0;
        const bool stalled = f.stall_after && in_.delivered >= *f.stall_after;
        if (stalled) return std::nullopt;
        if (in_.data.empty()) return in_.end_of_data ? std::optional<std::size_t>(0) : std::nullopt;
        std::size_t n = std::min(buffer.size(), in_.data.size());
        if (f.one_byte_at_a_time) n = 1;
        if (f.truncate_after) n = std::min(n, *f.truncate_after - in_.delivered);
        if (f.stall_after) n = std::min(n, *f.stall_after - in_.delivered);
        auto* p = static_cast<std::uint8_t*>(buffer.data());
        std::copy_n(in_.data.begin(), n, p);
        in_.data.erase(in_.data.begin(), in_.data.begin() + static_cast<std::ptrdiff_t>(n));
        in_.delivered += n;
        in_.writable.notify();
        return n;
    }

    // Ready once read_some would not wait: bytes it may deliver (not
    // stalled), the end of the data, or a truncation fault reached.
    void async_wait_readable(ReadableCallback ready) override {
        // Posted, so `ready` never runs inside this call, whatever co_spawn
        // does when it starts the coroutine.
        asio::post(ex_, [this, ready = std::move(ready)]() mutable {
            asio::co_spawn(ex_, wait_ready(),
                           [ready = std::move(ready)](std::exception_ptr error) { ready(error); });
        });
    }

    asio::awaitable<void> wait_ready() {
        for (;;) {
            check_open();
            const auto& f = in_.faults;
            if (f.truncate_after && in_.delivered >= *f.truncate_after) co_return;
            bool stalled = f.stall_after && in_.delivered >= *f.stall_after;
            if (!stalled && (!in_.data.empty() || in_.end_of_data)) co_return;
            co_await in_.readable.wait();
        }
    }

    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        for (;;) {
            if (const std::optional<std::size_t> n = try_write_some(buffer)) co_return *n;
            co_await out_.writable.wait();
        }
    }

    // Takes what fits under the capacity; nullopt while the pipe is full.
    std::optional<std::size_t> try_write_some(asio::const_buffer buffer) override {
        if (buffer.size() == 0) return 0;
        check_open();
        if (out_.end_of_data) throw std::system_error(asio::error::shut_down, "pipe write after shutdown");
        if (out_.reader_gone) throw std::system_error(asio::error::broken_pipe, "pipe write");
        if (out_.data.size() >= out_.capacity) return std::nullopt;
        std::size_t n = std::min(buffer.size(), out_.capacity - out_.data.size());
        auto* p = static_cast<const std::uint8_t*>(buffer.data());
        out_.data.insert(out_.data.end(), p, p + n);
        out_.readable.notify();
        return n;
    }

    asio::awaitable<void> shutdown_send() override {
        check_open();
        out_.end_of_data = true;
        out_.readable.notify();
        co_return;
    }

    void close() noexcept override {
        if (closed_) return;
        closed_ = true;
        out_.end_of_data = true;
        in_.reader_gone = true;
        in_.data.clear();
        for (Direction* d : {&in_, &out_}) {
            d->readable.notify();
            d->writable.notify();
        }
    }

    asio::ip::tcp::endpoint remote_endpoint() const override { return remote_; }
    asio::ip::tcp::endpoint local_endpoint() const override { return local_; }
    Protection protection() const override { return protection_; }

private:
    void check_open() const {
        if (closed_) throw std::system_error(asio::error::operation_aborted, "pipe closed");
    }

    asio::any_io_executor ex_;
    std::shared_ptr<Shared> shared_;
    Direction& in_;
    Direction& out_;
    Protection protection_;
    asio::ip::tcp::endpoint remote_;
    asio::ip::tcp::endpoint local_;
    bool closed_ = false;
};

}  // namespace

std::pair<Stream, Stream> make_pipe(asio::any_io_executor executor, PipeOptions options) {
    if (options.capacity == 0) options.capacity = 1;
    if (options.client.protection.transport.empty()) options.client.protection.transport = "pipe";
    if (options.server.protection.transport.empty()) options.server.protection.transport = "pipe";
    auto shared = std::make_shared<Shared>(executor, options);
    auto client = std::make_shared<PipeStream>(executor, shared, shared->to_client, shared->to_server,
                                               options.client.protection, options.server.endpoint,
                                               options.client.endpoint);
    auto server = std::make_shared<PipeStream>(executor, shared, shared->to_server, shared->to_client,
                                               options.server.protection, options.client.endpoint,
                                               options.server.endpoint);
    return {Stream(std::move(client)), Stream(std::move(server))};
}

struct PipeListener::State {
    explicit State(asio::any_io_executor ex) : executor(ex), ready(ex) {}
    asio::any_io_executor executor;
    std::deque<Stream> pending;
    bool closed = false;
    Signal ready;
};

PipeListener::PipeListener(asio::any_io_executor executor) : state_(std::make_shared<State>(executor)) {}

PipeListener::~PipeListener() { close(); }

Stream PipeListener::connect(PipeOptions options) {
    auto [client, server] = make_pipe(state_->executor, std::move(options));
    if (state_->closed) {
        server.close();
    } else {
        state_->pending.push_back(std::move(server));
        state_->ready.notify();
    }
    return std::move(client);
}

asio::awaitable<Stream> PipeListener::accept() {
    auto state = state_;
    while (state->pending.empty()) {
        if (state->closed) throw std::system_error(asio::error::operation_aborted, "pipe listener closed");
        co_await state->ready.wait();
    }
    Stream s = std::move(state->pending.front());
    state->pending.pop_front();
    co_return s;
}

void PipeListener::close() noexcept {
    state_->closed = true;
    state_->pending.clear();
    state_->ready.notify();
}

}  // namespace authchain
