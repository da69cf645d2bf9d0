#include <authchain/compose/detail/bound_stream.hpp>

namespace authchain::detail {

namespace {

class BoundStream final : public StreamImpl {
public:
    // Stream::wrap hands over the inner stream by value: it goes straight
    // back to `home`, which this stream only borrows.
    BoundStream(Stream inner, std::shared_ptr<Stream> home, Bytes channel_id)
        : home_(std::move(home)), channel_id_(std::move(channel_id)) {
        *home_ = std::move(inner);
    }

    asio::any_io_executor get_executor() override { return home_->get_executor(); }
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer b) override { return home_->read_some(b); }
    asio::awaitable<std::size_t> write_some(asio::const_buffer b) override { return home_->write_some(b); }
    void async_wait_readable(ReadableCallback ready) override { home_->async_wait_readable(std::move(ready)); }
    std::optional<std::size_t> try_read_some(asio::mutable_buffer b) override { return home_->try_read_some(b); }
    std::optional<std::size_t> try_write_some(asio::const_buffer b) override { return home_->try_write_some(b); }
    bool output_pending() const noexcept override { return home_->output_pending(); }
    asio::awaitable<void> flush() override { return home_->flush(); }
    asio::awaitable<void> shutdown_send() override { return home_->shutdown_send(); }
    asio::awaitable<void> send_deny(DenyReason r) override { return home_->send_deny(r); }
    void close() noexcept override { home_->close(); }
    void abort() noexcept override { home_->abort(); }
    asio::ip::tcp::endpoint remote_endpoint() const override { return home_->remote_endpoint(); }
    asio::ip::tcp::endpoint local_endpoint() const override { return home_->local_endpoint(); }
    Protection protection() const override {
        Protection p = home_->protection();
        p.channel_id = channel_id_;
        return p;
    }

private:
    std::shared_ptr<Stream> home_;
    Bytes channel_id_;
};

}  // namespace

Stream bind_channel(const std::shared_ptr<Stream>& home, Bytes channel_id) {
    Stream inner = std::move(*home);
    return Stream::wrap<BoundStream>(std::move(inner), home, std::move(channel_id));
}

}  // namespace authchain::detail
