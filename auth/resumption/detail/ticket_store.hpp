// The tickets each side keeps (auth/resumption.hpp). Thread safe: the
// connections of every event loop share one store per chain.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <authchain/auth/resumption/detail/messages.hpp>
#include <authchain/compose/credentials.hpp>

namespace authchain::detail {

using ResumptionClock = std::function<std::chrono::steady_clock::time_point()>;

// What the layers after the resumption layer proved on a full handshake:
// the session's credentials then, and where their entries begin in its
// proof log. Resuming proves entries [first, end) again.
struct KeptFacts {
    Credentials credentials;
    std::size_t first = 0;
};

struct TicketIdHash {
    std::size_t operator()(const TicketId& id) const noexcept;  // the id is random: its first bytes
};

class ServerTicketStore {
public:
    // `clock` empty: steady_clock::now.
    ServerTicketStore(std::chrono::seconds lifetime, std::size_t max_tickets, ResumptionClock clock = {});

    struct Found {
        TicketSecret secret;
        std::shared_ptr<const KeptFacts> facts;
    };
    // Draws a fresh id and secret, keeps them with `facts` for the lifetime.
    ResumptionR3 issue(std::shared_ptr<const KeptFacts> facts);
    // The ticket `id`, unless unknown or expired.
    std::optional<Found> find(const TicketId& id);
    std::size_t size();
    void forget_all();

private:
    struct Entry {
        TicketSecret secret;
        std::shared_ptr<const KeptFacts> facts;
        std::chrono::steady_clock::time_point expires;
    };
    std::chrono::steady_clock::time_point now() const;
    void drop_expired(std::chrono::steady_clock::time_point now);  // holding mutex_

    std::chrono::seconds lifetime_;
    std::size_t max_tickets_;
    ResumptionClock clock_;
    std::mutex mutex_;
    std::unordered_map<TicketId, Entry, TicketIdHash> tickets_;
    std::deque<TicketId> order_;  // issue order = expiry order (one lifetime for all)
};

class ClientTicketStore {
public:
    ClientTicketStore(std::size_t max_servers, ResumptionClock clock = {});

    struct Ticket {
        TicketId id{};
        TicketSecret secret;
        std::shared_ptr<const KeptFacts> facts;
        std::chrono::steady_clock::time_point expires;
    };
    // The ticket kept for `server`, unless none or expired.
    std::optional<Ticket> find(const std::string& server);
    // Keeps `r3` for `server`, replacing what was kept for it.
    void keep(const std::string& server, const ResumptionR3& r3, std::shared_ptr<const KeptFacts> facts);
    // Forgets the ticket of `server` if it is still `id` (a newer one stays).
    void forget(const std::string& server, const TicketId& id);
    std::size_t size();
    void forget_all();

private:
    std::chrono::steady_clock::time_point now() const;

    std::size_t max_servers_;
    ResumptionClock clock_;
    std::mutex mutex_;
    std::map<std::string, Ticket> tickets_;
};

}  // namespace authchain::detail
