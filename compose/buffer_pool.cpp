#include <authchain/compose/buffer_pool.hpp>

#include <algorithm>
#include <atomic>
#include <utility>
#include <vector>

namespace authchain {

namespace {

struct Block {
    std::uint8_t* data;
    std::size_t size;
};

// One thread's idle buffers, most recently released last (reused first:
// still in cache).
struct Pool {
    std::vector<Block> idle;
    std::size_t idle_bytes = 0;
    ~Pool();
};

// Set once this thread's pool is destroyed (thread exit): later releases
// (a buffer destroyed by another thread-local's destructor) free directly.
thread_local bool pool_destroyed = false;
thread_local Pool pool;

std::atomic<std::size_t> lent{0};

Pool::~Pool() {
    for (const Block& b : idle) delete[] b.data;
    idle.clear();
    idle_bytes = 0;
    pool_destroyed = true;
}

}  // namespace

PooledBuffer::PooledBuffer(std::size_t size) {
    if (size == 0) return;
    if (!pool_destroyed) {
        auto& idle = pool.idle;
        for (auto it = idle.rbegin(); it != idle.rend(); ++it) {
            if (it->size != size) continue;
            data_ = it->data;
            pool.idle_bytes -= size;
            idle.erase(std::next(it).base());
            break;
        }
    }
    if (!data_) data_ = new std::uint8_t[size];
    size_ = size;
    lent.fetch_add(size, std::memory_order_relaxed);
}

PooledBuffer::PooledBuffer(PooledBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PooledBuffer& PooledBuffer::operator=(PooledBuffer&& other) noexcept {
    if (this != &other) {
        release();
        data_ = std::exchange(other.data_, nullptr);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

void PooledBuffer::release() noexcept {
    if (!data_) return;
    lent.fetch_sub(size_, std::memory_order_relaxed);
    bool kept = false;
    if (!pool_destroyed && pool.idle.size() < buffer_pool_idle_count &&
        pool.idle_bytes + size_ <= buffer_pool_idle_limit) {
        try {
            pool.idle.push_back({data_, size_});
            pool.idle_bytes += size_;
            kept = true;
        } catch (...) {
        }
    }
    if (!kept) delete[] data_;
    data_ = nullptr;
    size_ = 0;
}

std::size_t buffer_pool_lent_bytes() noexcept { return lent.load(std::memory_order_relaxed); }

std::size_t buffer_pool_idle_bytes() noexcept { return pool_destroyed ? 0 : pool.idle_bytes; }

}  // namespace authchain
