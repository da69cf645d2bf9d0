#include <authchain/relay/multiplex/stream.hpp>

#include <algorithm>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <cstring>
#include <system_error>

#include <authchain/relay/multiplex/multiplexer.hpp>

namespace authchain::mux {

namespace {

// A drained receive buffer above this keeps no storage (an idle stream holds none of note).
constexpr std::size_t keep_rx_capacity = 4096;
// One write takes at most this much, so streams sharing the channel take turns.
constexpr std::size_t max_write = 64 * 1024;

std::exception_ptr error_of(const StreamState& s) {
    if (s.closed) return std::make_exception_ptr(std::system_error(asio::error::operation_aborted, "multiplexed stream closed"));
    if (!s.ended) return nullptr;
    const auto code = s.reset_by_peer ? asio::error::connection_reset : asio::error::connection_aborted;
    return std::make_exception_ptr(std::system_error(code, *s.ended));
}

class MuxStream final : public StreamImpl {
public:
    MuxStream(std::shared_ptr<Multiplexer> m, std::shared_ptr<StreamState> s)
        : m_(std::move(m)), s_(std::move(s)), executor_(m_->executor()),
          remote_(m_->channel().remote_endpoint()), local_(m_->channel().local_endpoint()) {
        const Protection p = m_->channel().protection();
        protection_ = Protection{.confidential = p.confidential,
                                 .peer_authenticated = p.peer_authenticated,
                                 .channel_id = {},
                                 .transport = p.transport + " multiplexed"};
    }
    ~MuxStream() override { close(); }

    asio::any_io_executor get_executor() override { return executor_; }

    std::optional<std::size_t> try_read_some(asio::mutable_buffer buffer) override {
        StreamState& s = *s_;
        if (s.closed) std::rethrow_exception(error_of(s));
        if (buffer.size() == 0) return 0;
        if (s.buffered() > 0) return take(buffer);
        if (s.fin_received) return 0;
        if (s.ended) std::rethrow_exception(error_of(s));
        return std::nullopt;
    }

    asio::awaitable<std::size_t> read_some(asio::mutable_buffer buffer) override {
        for (;;) {
            if (const std::optional<std::size_t> n = try_read_some(buffer)) co_return *n;
            co_await signal().wait();
        }
    }

    void async_wait_readable(ReadableCallback ready) override {
        const StreamState& s = *s_;
        if (s.closed || s.buffered() > 0 || s.fin_received || s.ended) return ready_now(std::move(ready), error_of(s));
        s_->readable = std::move(ready);
    }

    std::optional<std::size_t> try_write_some(asio::const_buffer buffer) override {
        check_writable();
        if (buffer.size() == 0) return 0;
        if (s_->tx_window == 0 || m_->output_full()) return std::nullopt;
        const std::size_t n = std::min({buffer.size(), std::size_t{s_->tx_window}, max_write});
        m_->queue_data(*s_, ByteView(static_cast<const std::uint8_t*>(buffer.data()), n));
        return n;
    }

    asio::awaitable<std::size_t> write_some(asio::const_buffer buffer) override {
        for (;;) {
            if (const std::optional<std::size_t> n = try_write_some(buffer)) co_return *n;
            if (m_->output_full())
                co_await m_->output_drained();
            else
                co_await signal().wait();
        }
    }

    asio::awaitable<void> shutdown_send() override {
        if (s_->fin_sent && !s_->closed && !s_->ended) co_return;
        check_writable();
        m_->queue_fin(*s_);
        s_->fin_sent = true;
    }

    void close() noexcept override { finish(false); }
    void abort() noexcept override { finish(true); }

    asio::ip::tcp::endpoint remote_endpoint() const override { return remote_; }
    asio::ip::tcp::endpoint local_endpoint() const override { return local_; }
    Protection protection() const override { return protection_; }

private:
    authchain::detail::Signal& signal() {
        if (!s_->waiting) s_->waiting = std::make_unique<authchain::detail::Signal>(executor_);
        return *s_->waiting;
    }

    std::size_t take(asio::mutable_buffer buffer) {
        StreamState& s = *s_;
        const std::size_t n = std::min(buffer.size(), s.buffered());
        std::memcpy(buffer.data(), s.rx.data() + s.rx_begin, n);
        s.rx_begin += n;
        if (s.rx_begin == s.rx.size()) {
            s.rx_begin = 0;
            if (s.rx.capacity() > keep_rx_capacity)
                Bytes().swap(s.rx);
            else
                s.rx.clear();
        }
        // Grant the bytes back once half the window is taken: one window
        // frame per half window, not one per read.
        s.rx_unacked += static_cast<std::uint32_t>(n);
        if (s.in_table && !s.fin_received && s.rx_unacked >= s.rx_size / 2) m_->grant_window(s);
        return n;
    }

    void check_writable() const {
        const StreamState& s = *s_;
        if (s.closed || s.ended) std::rethrow_exception(error_of(s));
        if (s.fin_sent) throw std::system_error(asio::error::shut_down, "multiplexed stream write after shutdown");
    }

    // close() and abort(): a stream that did not finish both ways (or whose
    // input was not all read) is reset on the peer; waiters are woken.
    void finish(bool reset) noexcept {
        StreamState& s = *s_;
        if (s.closed) return;
        const bool clean = s.fin_sent && s.fin_received && s.buffered() == 0;
        s.closed = true;
        m_->forget(s, reset || !clean);
        s.rx = Bytes();
        s.rx_begin = 0;
        s.wake(executor_);
    }

    std::shared_ptr<Multiplexer> m_;
    std::shared_ptr<StreamState> s_;
    asio::any_io_executor executor_;
    asio::ip::tcp::endpoint remote_;
    asio::ip::tcp::endpoint local_;
    Protection protection_;
};

}  // namespace

void StreamState::wake_reader(const asio::any_io_executor& executor) {
    if (readable) {
        std::exception_ptr error = buffered() > 0 || fin_received ? nullptr : error_of(*this);
        asio::post(executor, [ready = std::move(readable), error] { ready(error); });
        readable = nullptr;
    }
    if (waiting) waiting->notify();
}

void StreamState::wake_writer() {
    if (waiting) waiting->notify();
}

Stream make_stream(std::shared_ptr<Multiplexer> multiplexer, std::shared_ptr<StreamState> state) {
    return Stream(std::make_shared<MuxStream>(std::move(multiplexer), std::move(state)));
}

}  // namespace authchain::mux
