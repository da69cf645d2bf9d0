// A test stream on top of another that records every deny sent through it
// (as a secure channel would carry it), so a test can check how many were
// sent and which reasons.
#pragma once

#include <memory>
#include <vector>

#include <authchain/compose/stream.hpp>

namespace authchain::test {

class TellingStream final : public StreamImpl {
public:
    TellingStream(Stream inner, std::shared_ptr<std::vector<DenyReason>> told)
        : inner_(std::move(inner)), told_(std::move(told)) {}
    asio::any_io_executor get_executor() override { return inner_.get_executor(); }
    asio::awaitable<std::size_t> read_some(asio::mutable_buffer b) override { return inner_.read_some(b); }
    asio::awaitable<std::size_t> write_some(asio::const_buffer b) override { return inner_.write_some(b); }
    asio::awaitable<void> shutdown_send() override { return inner_.shutdown_send(); }
    asio::awaitable<void> send_deny(DenyReason reason) override {
        told_->push_back(reason);
        co_return;
    }
    void close() noexcept override { inner_.close(); }
    asio::ip::tcp::endpoint remote_endpoint() const override { return inner_.remote_endpoint(); }
    Protection protection() const override { return inner_.protection(); }

private:
    Stream inner_;
    std::shared_ptr<std::vector<DenyReason>> told_;
};

}  // namespace authchain::test
