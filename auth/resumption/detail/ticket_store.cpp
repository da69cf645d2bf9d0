#include <authchain/auth/resumption/detail/ticket_store.hpp>

#include <botan/system_rng.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace authchain::detail {

std::size_t TicketIdHash::operator()(const TicketId& id) const noexcept {
    std::size_t h = 0;
    std::memcpy(&h, id.data(), sizeof h);
    return h;
}

namespace {
std::chrono::steady_clock::time_point now_from(const ResumptionClock& clock) {
    return clock ? clock() : std::chrono::steady_clock::now();
}
}  // namespace

ServerTicketStore::ServerTicketStore(std::chrono::seconds lifetime, std::size_t max_tickets, ResumptionClock clock)
    : lifetime_(lifetime), max_tickets_(max_tickets), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point ServerTicketStore::now() const { return now_from(clock_); }

// order_ and tickets_ hold the same ids: issue adds to both, the rest removes from both.
void ServerTicketStore::drop_expired(std::chrono::steady_clock::time_point now) {
    while (!order_.empty() && tickets_.at(order_.front()).expires <= now) {
        tickets_.erase(order_.front());
        order_.pop_front();
    }
}

ResumptionR3 ServerTicketStore::issue(std::shared_ptr<const KeptFacts> facts) {
    ResumptionR3 r3;
    r3.lifetime_seconds = static_cast<std::uint32_t>(lifetime_.count());
    r3.secret.resize(resumption_secret_size);
    Botan::system_rng().randomize(r3.id.data(), r3.id.size());
    Botan::system_rng().randomize(r3.secret.data(), r3.secret.size());
    auto t = now();
    std::lock_guard lock(mutex_);
    drop_expired(t);
    while (tickets_.size() >= max_tickets_ && !order_.empty()) {
        tickets_.erase(order_.front());
        order_.pop_front();
    }
    // 256 random bits: a collision is not a case to handle, but never let one overwrite.
    if (tickets_.emplace(r3.id, Entry{r3.secret, std::move(facts), t + lifetime_}).second) order_.push_back(r3.id);
    return r3;
}

std::optional<ServerTicketStore::Found> ServerTicketStore::find(const TicketId& id) {
    auto t = now();
    std::lock_guard lock(mutex_);
    drop_expired(t);
    auto it = tickets_.find(id);  // what drop_expired left has not expired
    if (it == tickets_.end()) return std::nullopt;
    return Found{it->second.secret, it->second.facts};
}

std::size_t ServerTicketStore::size() {
    auto t = now();
    std::lock_guard lock(mutex_);
    drop_expired(t);
    return tickets_.size();
}

void ServerTicketStore::forget_all() {
    std::lock_guard lock(mutex_);
    tickets_.clear();
    order_.clear();
}

ClientTicketStore::ClientTicketStore(std::size_t max_servers, ResumptionClock clock)
    : max_servers_(max_servers), clock_(std::move(clock)) {}

std::chrono::steady_clock::time_point ClientTicketStore::now() const { return now_from(clock_); }

std::optional<ClientTicketStore::Ticket> ClientTicketStore::find(const std::string& server) {
    auto t = now();
    std::lock_guard lock(mutex_);
    auto it = tickets_.find(server);
    if (it == tickets_.end()) return std::nullopt;
    if (it->second.expires <= t) {
        tickets_.erase(it);
        return std::nullopt;
    }
    return it->second;
}

void ClientTicketStore::keep(const std::string& server, const ResumptionR3& r3,
                             std::shared_ptr<const KeptFacts> facts) {
    // A second early: the server counts from before R3 was on the wire.
    auto expires = now() + std::chrono::seconds(r3.lifetime_seconds) - std::chrono::seconds(1);
    std::lock_guard lock(mutex_);
    if (!tickets_.contains(server) && tickets_.size() >= max_servers_) {
        auto oldest = std::min_element(tickets_.begin(), tickets_.end(), [](const auto& a, const auto& b) {
            return a.second.expires < b.second.expires;
        });
        tickets_.erase(oldest);
    }
    tickets_.insert_or_assign(server, Ticket{r3.id, r3.secret, std::move(facts), expires});
}

void ClientTicketStore::forget(const std::string& server, const TicketId& id) {
    std::lock_guard lock(mutex_);
    auto it = tickets_.find(server);
    if (it != tickets_.end() && it->second.id == id) tickets_.erase(it);
}

std::size_t ClientTicketStore::size() {
    auto t = now();
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(tickets_.begin(), tickets_.end(), [t](const auto& e) { return e.second.expires > t; }));
}

void ClientTicketStore::forget_all() {
    std::lock_guard lock(mutex_);
    tickets_.clear();
}

}  // namespace authchain::detail
