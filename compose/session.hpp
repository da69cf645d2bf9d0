// Session, Authenticator and composition.
//
// An authenticator is any callable Session -> asio::awaitable<Session>.
// It returns the session (possibly over a new, wrapped stream, with more
// credentials) or refuses it by throwing AuthenticationError.
//
// `a | b` runs a first, then b on what a returned: the layer written first
// sees the connection first. Order is behaviour:
//     ip_filter(allow) | secure_channel(...) | public_key(...)
// rejects a blocked address before any cryptography runs, while
//     secure_channel(...) | ip_filter(allow)
// would spend a key exchange on it first.
#pragma once

#include <asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <string_view>

#include <authchain/compose/credentials.hpp>
#include <authchain/compose/stream.hpp>

namespace authchain {

// How the chain ran, filled in by the drivers (Server, authenticate): the
// handler gets it with the session. The layers passed are
// credentials.layers(): progress is recorded once, in the proof log.
struct Handshake {
    std::chrono::system_clock::time_point started{};  // when the connection arrived
    std::chrono::steady_clock::duration duration{};   // how long the chain took
};

struct Session {
    Stream stream;
    Credentials credentials;
    Handshake handshake;
};

using Authenticator = std::function<asio::awaitable<Session>(Session)>;

Authenticator operator|(Authenticator first, Authenticator then);

// The identity layer: returns the session unchanged.
Authenticator pass();

// Starts a session on a freshly accepted or connected stream: records the
// peer endpoint the transport reports, and makes the connection's trail
// follow the session's proof log (ConnectionTrail::track).
// Precondition: `stream` is not empty.
Session start_session(Stream stream);

// For a layer that has a server and a client side: refuses at once when the
// connection's driver runs the other side (a server layer in a client
// chain, or the reverse), instead of both peers waiting for each other
// until a timeout. internal_error (a bug in the chain, not the peer's
// fault), the detail naming `layer`, the side found and the one to use.
// Nothing is checked when no driver said (ConnectionTrail::Side::unknown).
void require_side(const Session& session, ConnectionTrail::Side side, std::string_view layer);

}  // namespace authchain
