#include <authchain/compose/stream.hpp>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

namespace authchain {

std::shared_ptr<StreamImpl> ConnectionTrail::top() const noexcept { return top_.lock(); }

void ConnectionTrail::close_top() noexcept {
    if (auto t = top()) t->close();
}

void ConnectionTrail::set_top(const std::shared_ptr<StreamImpl>& impl) {
    top_ = impl;
    if (pinned_) pinned_top_ = impl;
}

void ConnectionTrail::pin() {
    pinned_ = true;
    pinned_top_ = top_.lock();
}

void ConnectionTrail::unpin() noexcept {
    pinned_ = false;
    pinned_top_.reset();
}

void ConnectionTrail::hold(std::shared_ptr<void> object) { held_.push_back(std::move(object)); }

void ConnectionTrail::track(const Credentials& credentials) { progress_ = credentials.shared_log(); }

std::vector<std::string> ConnectionTrail::layers_passed() const {
    return progress_ ? progress_->layers() : std::vector<std::string>{};
}

Stream::Stream(std::shared_ptr<StreamImpl> impl)
    : Stream(std::move(impl), std::make_shared<ConnectionTrail>()) {}

Stream::Stream(std::shared_ptr<StreamImpl> impl, std::shared_ptr<ConnectionTrail> trail)
    : impl_(std::move(impl)), trail_(std::move(trail)) {
    trail_->set_top(impl_);
}

Stream::~Stream() = default;

asio::awaitable<std::size_t> Stream::read_some(asio::mutable_buffer buffer) {
    return impl_->read_some(buffer);
}

asio::awaitable<std::size_t> Stream::write_some(asio::const_buffer buffer) {
    return impl_->write_some(buffer);
}

void StreamImpl::async_wait_readable(ReadableCallback ready) { ready_now(std::move(ready)); }

void StreamImpl::ready_now(ReadableCallback ready, std::exception_ptr error) {
    asio::post(get_executor(), [ready = std::move(ready), error = std::move(error)] { ready(error); });
}

void Stream::async_wait_readable(StreamImpl::ReadableCallback ready) { impl_->async_wait_readable(std::move(ready)); }

asio::awaitable<void> Stream::wait_readable() {
    // use_awaitable throws a non-null exception_ptr completion.
    return asio::async_initiate<const asio::use_awaitable_t<>&, void(std::exception_ptr)>(
        [](auto handler, std::shared_ptr<StreamImpl> impl) {
            auto shared = std::make_shared<decltype(handler)>(std::move(handler));
            impl->async_wait_readable([shared](std::exception_ptr error) { (*shared)(error); });
        },
        asio::use_awaitable, impl_);
}

asio::awaitable<void> Stream::shutdown_send() { return impl_->shutdown_send(); }

asio::awaitable<void> Stream::send_deny(DenyReason reason) { return impl_->send_deny(reason); }
asio::awaitable<void> Stream::send_accept() { return impl_->send_accept(); }
asio::awaitable<void> Stream::receive_verdict() { return impl_->receive_verdict(); }

void Stream::close() noexcept {
    if (impl_) impl_->close();
}

void Stream::abort() noexcept {
    if (impl_) impl_->abort();
}

void Stream::hold(std::shared_ptr<void> object) { trail_->hold(std::move(object)); }

asio::awaitable<void> write_all(Stream& stream, asio::const_buffer data) {
    while (data.size() > 0) {
        std::size_t n = co_await stream.write_some(data);
        data += n;
    }
}

asio::awaitable<void> read_exact(Stream& stream, asio::mutable_buffer buffer, std::string_view what) {
    while (buffer.size() > 0) {
        std::size_t n = co_await stream.read_some(buffer);
        if (n == 0) deny(DenyReason::protocol_error, "connection closed while reading " + std::string(what));
        buffer += n;
    }
}

namespace detail {

namespace {
std::error_code error_of(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::system_error& e) {
        return e.code();
    } catch (const AuthenticationError&) {
        return std::make_error_code(std::errc::protocol_error);
    } catch (...) {
        return std::make_error_code(std::errc::io_error);
    }
}
}  // namespace

asio::awaitable<IoResult> read_some_result(std::shared_ptr<StreamImpl> impl, asio::mutable_buffer buffer) {
    if (buffer.size() == 0) co_return IoResult{};
    std::exception_ptr failed;
    try {
        std::size_t n = co_await impl->read_some(buffer);
        if (n == 0) co_return IoResult{asio::error::eof, 0};
        co_return IoResult{{}, n};
    } catch (...) {
        failed = std::current_exception();
    }
    co_return IoResult{error_of(failed), 0};
}

asio::awaitable<IoResult> write_some_result(std::shared_ptr<StreamImpl> impl, asio::const_buffer buffer) {
    if (buffer.size() == 0) co_return IoResult{};
    std::exception_ptr failed;
    try {
        co_return IoResult{{}, co_await impl->write_some(buffer)};
    } catch (...) {
        failed = std::current_exception();
    }
    co_return IoResult{error_of(failed), 0};
}

}  // namespace detail

}  // namespace authchain
