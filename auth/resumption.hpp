// resumption: a later connection of an authenticated client skips the
// layers after this one, by a ticket an earlier connection earned. What it
// saves is their public-key work (two signatures and two verifications for
// public_key, an Argon2id check for password): the key exchange before it
// still runs on every connection, so every resumed connection keeps fresh
// keys (forward secrecy), its own channel id, and mutual authentication.
//
//     secure_channel() | resumption() | public_key(files)                  // server
//     client::secure_channel() | client::resumption() | client::public_key(o)  // client
//
// It is a Wrapper (compose/wrapper.hpp): it runs around the ONE operand
// written after it, here public_key, and a resumed connection skips that
// operand; what follows it (`... | public_key(files) | my_check`) runs on
// every connection. The gate's config builds it so: only authenticating
// layers after it, the [[allow]] check after it (config/registry.hpp).
// Put it right after the transport layer (secure_channel or tls) and before
// the layers that authenticate; a layer after it that changes the stream
// (a second transport) is refused as internal_error on the first
// connection, since a ticket cannot stand in for a transport.
//
// The protocol (framing and encoding in auth/resumption/detail/messages.hpp):
//   0. Both sides refuse a stream that is not confidential or has no
//      channel id (protocol_error). Let cid be that channel id.
//   R1 client -> server, first: either "full" (no ticket for this server)
//      or "resume" with a ticket id T (32 bytes) and proof_c =
//        HMAC-SHA256(S, string "authchain resumption client v1" || string cid || string T),
//      where S is the ticket's 32-byte secret.
//   Full: the server runs the layers after it; the client runs its own. When
//      both succeed, the server draws a fresh T and S (system RNG), keeps
//      them with the facts those layers proved, and sends
//   R3 server -> client: lifetime (seconds), T, S. The client keeps T, S and
//      the facts ITS later layers proved (the server's host key, ...) for
//      that server. R3 travels in the channel the later layers just
//      authenticated, so only the client that proved itself learns S.
//   Resume: the server looks T up.
//      - unknown, expired, or forgotten (a restart, a reload: SIGHUP forgets
//        every ticket, so a key removed from authorized_keys stops resuming
//        when it stops authenticating): R2 "unknown", then the full path
//        above. The client forgets the ticket.
//      - known: proof_c is compared in constant time. A wrong proof is
//        R2 "denied" and AuthenticationError(denied): a ticket id alone (a
//        man in the middle of an unauthenticated channel sees it) is worth
//        nothing.
//      - right: R2 "resumed" with proof_s = HMAC-SHA256(S, string
//        "authchain resumption server v1" || string cid || string T), and
//        the facts kept with the ticket are proven again in this session,
//        by the layers that proved them, with a note "resumption: resumed".
//        The client checks proof_s in constant time (a wrong one: denied,
//        and the ticket is forgotten) and proves its own kept facts again.
//   Both proofs cover this connection's channel id, so neither can be
//   replayed on another connection or relayed between two channels; the
//   role labels differ, so neither is valid in the other direction. The
//   server proves only to a client that proved first. Anything after the
//   wrapper (a gate's [[allow]] rules, a lambda) sees the same facts as on
//   the full path and decides again.
// Tickets may be used by many connections until they expire (the lifetime
// counts from the full handshake; resuming does not extend it). Every
// message is a frame of at most 128 bytes; a malformed one is protocol_error.
//
// Memory: the server keeps at most max_tickets tickets (the oldest go
// first), the client one per server address (at most max_servers).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include <authchain/compose/wrapper.hpp>

namespace authchain {

namespace detail {
class ServerTicketStore;  // auth/resumption/detail/ticket_store.hpp
class ClientTicketStore;
}  // namespace detail

inline constexpr std::chrono::seconds resumption_max_lifetime{24 * 3600};

struct ResumptionOptions {
    // How long a ticket resumes, from the full handshake that earned it:
    // 1 s .. 24 h. A key removed from authorized_keys without a reload
    // keeps resuming this long at most.
    std::chrono::seconds lifetime{300};
    // Tickets kept at once; when full, the oldest is forgotten. At least 1.
    std::size_t max_tickets = 10'000;
    // Where the store reads the time; empty: steady_clock::now (tests move it).
    std::function<std::chrono::steady_clock::time_point()> clock{};
};

// The server's tickets, shared by every connection of one chain (thread
// safe). The gate forgets them all on SIGHUP (forget_all).
class ResumptionTickets {
public:
    // Throws std::invalid_argument for a lifetime outside 1 s .. 24 h or
    // max_tickets 0.
    explicit ResumptionTickets(ResumptionOptions options = {});
    ~ResumptionTickets();
    ResumptionTickets(const ResumptionTickets&) = delete;
    ResumptionTickets& operator=(const ResumptionTickets&) = delete;

    const ResumptionOptions& options() const noexcept;
    // Tickets kept now, expired ones not counted.
    std::size_t size() const;
    void forget_all();

    detail::ServerTicketStore& store() const noexcept { return *store_; }  // the layer's

private:
    ResumptionOptions options_;
    std::unique_ptr<detail::ServerTicketStore> store_;
};

// True when a resumption layer resumed this session from a ticket (its
// proof log holds the note "resumed" of layer "resumption"); the gate's
// audit line then says "resumed": true.
bool resumed(const Credentials& credentials);

// Server side. Throws what ResumptionTickets' constructor throws.
Wrapper resumption(ResumptionOptions options = {});
Wrapper resumption(std::shared_ptr<ResumptionTickets> tickets);

namespace client {

struct ResumptionOptions {
    // Servers (peer addresses) whose ticket is kept; when full, the one
    // kept longest is forgotten. At least 1.
    std::size_t max_servers = 256;
    // Where the store reads the time; empty: steady_clock::now (tests move it).
    std::function<std::chrono::steady_clock::time_point()> clock{};
};

// The client's tickets, one per server address (thread safe).
class ResumptionTickets {
public:
    // Throws std::invalid_argument for max_servers 0.
    explicit ResumptionTickets(ResumptionOptions options = {});
    ~ResumptionTickets();
    ResumptionTickets(const ResumptionTickets&) = delete;
    ResumptionTickets& operator=(const ResumptionTickets&) = delete;

    // Tickets kept now, expired ones not counted.
    std::size_t size() const;
    void forget_all();

    detail::ClientTicketStore& store() const noexcept { return *store_; }  // the layer's

private:
    std::unique_ptr<detail::ClientTicketStore> store_;
};

Wrapper resumption(ResumptionOptions options = {});
Wrapper resumption(std::shared_ptr<ResumptionTickets> tickets);

}  // namespace client

}  // namespace authchain
