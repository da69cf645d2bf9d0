#include <authchain/transport/detail/secure_channel/read_buffer.hpp>

#include <authchain/transport/detail/secure_channel/copy_forward.hpp>

#include <algorithm>

namespace authchain::channel {

void ReadBuffer::consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ >= end_) begin_ = end_ = 0;
}

void ReadBuffer::release_if_empty() noexcept {
    if (begin_ == end_) data_.release();
}

void ReadBuffer::borrow() { data_ = PooledBuffer(capacity_); }

void ReadBuffer::regrow(std::size_t size) {
    PooledBuffer bigger(size);
    if (end_ > begin_) copy_forward(bigger.data(), data_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
    data_ = std::move(bigger);
}

void ReadBuffer::reserve(std::size_t capacity) {
    maximum_ = std::max(maximum_, capacity);
    capacity_ = std::max(capacity_, capacity);
    if (empty()) {
        data_.release();
    } else if (data_.size() < capacity_) {
        regrow(capacity_);
    }
}

asio::mutable_buffer ReadBuffer::room() {
    if (data_.empty()) borrow();
    // Move unread bytes to the front once the free tail gets small, so reads stay large.
    if (begin_ > 0 && data_.size() - end_ < data_.size() / 4) {
        copy_forward(data_.data(), data_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    if (end_ == data_.size() && data_.size() < maximum_) {
        capacity_ = std::min(maximum_, data_.size() * 2);
        regrow(capacity_);
    }
    if (end_ == data_.size()) deny(DenyReason::protocol_error, "message larger than the input buffer");
    return asio::buffer(data_.data() + end_, data_.size() - end_);
}

asio::awaitable<bool> ReadBuffer::fill(Stream& stream) {
    const asio::mutable_buffer free = room();
    std::size_t n = co_await stream.read_some(free);
    end_ += n;
    co_return n > 0;
}

std::optional<bool> ReadBuffer::try_fill(Stream& stream) {
    const std::optional<std::size_t> n = stream.try_read_some(room());
    if (!n) return std::nullopt;
    end_ += *n;
    return *n > 0;
}

}  // namespace authchain::channel
