// PooledBuffer: a byte buffer borrowed from a pool kept per thread, so that
// a connection holds a data buffer only while bytes move through it.
//
//     PooledBuffer buffer(64 * 1024);   // from this thread's pool (or new)
//     ... read into buffer.span(), write it out ...
//     buffer.release();                 // back to the pool of the running thread
//
// - No locks: each thread keeps its own idle buffers (thread_local). A
//   buffer may be released on another thread than the one it came from (a
//   coroutine can resume elsewhere); it then joins that thread's pool.
// - Bounded: a thread keeps at most buffer_pool_idle_limit idle bytes (and
//   buffer_pool_idle_count buffers); what does not fit is freed.
// - Buffers are reused only for the same size; contents are unspecified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace authchain {

inline constexpr std::size_t buffer_pool_idle_limit = 1024 * 1024;  // bytes per thread
inline constexpr std::size_t buffer_pool_idle_count = 16;               // buffers per thread

class PooledBuffer {
public:
    PooledBuffer() noexcept = default;
    // Borrows `size` bytes (contents unspecified); size 0 holds nothing.
    explicit PooledBuffer(std::size_t size);
    PooledBuffer(PooledBuffer&& other) noexcept;
    PooledBuffer& operator=(PooledBuffer&& other) noexcept;
    PooledBuffer(const PooledBuffer&) = delete;
    PooledBuffer& operator=(const PooledBuffer&) = delete;
    ~PooledBuffer() { release(); }

    std::uint8_t* data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    std::span<std::uint8_t> span() const noexcept { return {data_, size_}; }

    // Gives the bytes back to the pool of the thread running now; then
    // empty(). Idempotent.
    void release() noexcept;

private:
    std::uint8_t* data_ = nullptr;
    std::size_t size_ = 0;
};

// Bytes lent out by every pool of the process and not yet released (for
// tests and metrics: it bounds what live connections hold in data buffers).
std::size_t buffer_pool_lent_bytes() noexcept;
// Idle bytes in the calling thread's pool.
std::size_t buffer_pool_idle_bytes() noexcept;

}  // namespace authchain
