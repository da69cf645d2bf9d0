// any_of: alternatives, negotiated like SSH's method list. The server
// announces the methods it accepts, the client picks the first of ITS list
// (its preference order) that the server offers, and that method's layer
// runs on both sides. A method that fails can be followed by another, up to
// max_attempts; a method is tried at most once per connection.
//
//     any_of({{"public_key", public_key(pk)}, {"psk", psk(keys)}}, {.max_attempts = 3})          // server
//     client::any_of({{"psk", client::psk(k)}, {"public_key", client::public_key(id)}})         // client
//
// Protocol (messages in compose/detail/any_of_messages.hpp), per attempt:
//   A1 server -> client: offer (attempts left, the names not yet failed).
//   A2 client -> server: choice (one offered name; empty = no common method,
//      then both sides deny: denied).
//   The chosen method runs on both sides, over a stream whose channel id is
//      string "authchain any_of v1" || string cid || string T, where cid is
//      the stream's channel id and T every any_of frame sent so far (this
//      attempt's A1 and A2 included). A method that signs or MACs its channel
//      id (public_key, psk) so covers the negotiation: a tampered offer (a
//      downgrade) or a proof from an earlier attempt fails the method. On a
//      stream without a channel id (plain TCP) the method sees none either.
//   A3 server -> client: the server's verdict on the method (and attempts
//      left), sent as soon as its side of the method ended.
//   A4 client -> server: the client's verdict.
//   Both accepted: done. Otherwise the attempt failed; the server sends A1
//   again while attempts are left, else it denies with the failed method's
//   reason (the client reads A3's zero attempts left and denies: denied).
// A method failure is told in-band only when the method's own exchange is
// complete: on the server, a method that throws AuthenticationError(denied)
// must have sent its refusal (public_key and psk send a verdict first); on
// the client, a method that read the server's refusal throws RefusedByPeer
// (compose/error.hpp). Any other failure (protocol_error, timeout, I/O, or
// a client that refuses the server on its own) ends the connection: a frame
// out of place is a protocol_error on the other side.
//
// Facts: those of the method that succeeded, and a note "method <name>".
// Every failed attempt is reported to AnyOfOptions::on_failed_attempt (e.g.
// FailureThrottle::record_failure), the last one also by the denial that
// ends the chain. The session's stream stays the bound stream: later layers
// see its channel id (both sides alike).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include <authchain/compose/session.hpp>

namespace authchain {

struct Method {
    std::string name;  // 1..32 of [a-z0-9_.-]; unique in one any_of
    Authenticator authenticator;
};

struct AnyOfOptions {
    std::size_t max_attempts = 3;  // 1..16
    // Called on each failed attempt that leaves the stream usable (not the
    // final denial: that is thrown), with the credentials as they were
    // before it (credentials.peer: the source). It may throw to end the
    // connection. With a FailureThrottle (auth/failure_throttle.hpp) around
    // the chain, count each attempt and stop a source once it is blocked:
    //     .on_failed_attempt = [t](const Credentials& c, const AuthenticationError&) {
    //         t->record_failure(c.peer->address());
    //         if (t->blocked(c.peer->address())) deny(DenyReason::host_blocked, "blocked");
    //     }
    std::function<void(const Credentials&, const AuthenticationError&)> on_failed_attempt;
};

// Server side. Throws std::invalid_argument for no method, more than 16,
// an invalid or repeated name, or max_attempts outside 1..16.
Authenticator any_of(std::vector<Method> methods, AnyOfOptions options = {});

namespace client {
// Client side: `methods` in preference order; same rules.
Authenticator any_of(std::vector<Method> methods, AnyOfOptions options = {});
}  // namespace client

}  // namespace authchain
