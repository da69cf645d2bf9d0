// PasswordCheckPool: where the password layer's Argon2 checks run, and how
// many at once. Each check allocates its m KiB and keeps a core busy, so a
// flood of attempts must queue, not pile up: a check needs a slot, there
// are max_concurrent slots and as many threads (the checks never run on the
// connections' executors, so a slow hash does not stall other sessions).
// An attempt waits for a slot in order of arrival, for a bounded time; when
// none frees in time, or when max_waiting attempts already wait, it gets
// none and the layer refuses it as busy. One source (an IPv4 address or an
// IPv6 /64, compose/cidr.hpp source_of) holds at most half of the places
// (slots and waiting places together, at least 1), so a flood from one
// address cannot keep the others from being checked (DESIGN rule 9).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/address.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>

#include <authchain/auth/password/user_database.hpp>

namespace authchain {

class PasswordCheckPool {
public:
    // `max_concurrent` in 1..64; `max_waiting` 0 means 16 * max_concurrent.
    // Throws std::invalid_argument out of range.
    explicit PasswordCheckPool(std::size_t max_concurrent, std::size_t max_waiting = 0);
    // Joins the threads (a running check finishes first).
    ~PasswordCheckPool();
    PasswordCheckPool(const PasswordCheckPool&) = delete;
    PasswordCheckPool& operator=(const PasswordCheckPool&) = delete;

    struct State;
    // The right to run one check; released (handed to the next waiter) when
    // destroyed. Move-only.
    class Slot {
    public:
        Slot(std::shared_ptr<State> state, std::optional<asio::ip::address> source)
            : state_(std::move(state)), source_(std::move(source)) {}
        Slot(Slot&&) noexcept = default;
        Slot& operator=(Slot&&) noexcept;
        ~Slot();

    private:
        void release() noexcept;
        std::shared_ptr<State> state_;
        std::optional<asio::ip::address> source_;
    };

    // A slot now, or nullopt when all are taken (or `source` holds its share).
    std::optional<Slot> try_acquire(std::optional<asio::ip::address> source = std::nullopt);
    // A slot within `wait`, or nullopt (all taken until then, too many
    // waiting, or `source` already holding or waiting for its share).
    // `source` is reduced with source_of(); none: not counted per source.
    asio::awaitable<std::optional<Slot>> acquire(std::chrono::milliseconds wait,
                                                 std::optional<asio::ip::address> source = std::nullopt);
    // Runs userdb::verify_password(password, phc) on one of the pool's
    // threads and resumes the caller on its own executor. Call it holding a
    // slot. The password is wiped on that thread once checked.
    asio::awaitable<bool> verify(userdb::Secret password, std::string phc);

    std::size_t max_concurrent() const noexcept;
    std::size_t in_use() const;
    std::size_t waiting() const;
    // Places (slots and waiting) one source may hold: (max_concurrent + max_waiting) / 2.
    std::size_t max_per_source() const noexcept;

private:
    std::shared_ptr<State> state_;
    asio::thread_pool threads_;
};

}  // namespace authchain
