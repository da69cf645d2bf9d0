#include <authchain/compose/session.hpp>

#include <memory>

namespace authchain {

namespace {

struct Pair {
    Authenticator first;
    Authenticator then;
};

// Progress is recorded once, in the proof log that Credentials appends to;
// start_session gives the connection's trail that same log to follow
// (ConnectionTrail::track), so a pair records nothing itself. When a later
// layer refuses, its Session (and its Credentials) are gone, but the log
// lives on in the trail, and audited() names the layers that passed from
// it. The alternative, a denial that carries the layers passed as it
// propagates through `|`, would need every pair to snapshot the log before
// handing the session on (a second record again), and could not annotate
// the exceptions that are not AuthenticationError (I/O, bugs in a layer).
asio::awaitable<Session> run_pair(std::shared_ptr<const Pair> pair, Session session) {
    Session middle = co_await pair->first(std::move(session));
    co_return co_await pair->then(std::move(middle));
}

}  // namespace

Authenticator operator|(Authenticator first, Authenticator then) {
    auto pair = std::make_shared<const Pair>(Pair{std::move(first), std::move(then)});
    return [pair](Session session) { return run_pair(pair, std::move(session)); };
}

Authenticator pass() {
    return [](Session session) -> asio::awaitable<Session> { co_return session; };
}

Session start_session(Stream stream) {
    Session session{std::move(stream), {}, {}};
    session.credentials.prove("transport", &Credentials::peer, session.stream.remote_endpoint(), "peer");
    session.stream.trail()->track(session.credentials);
    return session;
}

void require_side(const Session& session, ConnectionTrail::Side side, std::string_view layer) {
    using Side = ConnectionTrail::Side;
    const Side driver = session.stream.trail()->side();
    if (driver == Side::unknown || driver == side) return;
    const std::string name(layer);
    if (side == Side::server)
        deny(DenyReason::internal_error, name + ": the server side of this layer is in a client chain (authenticate); "
                                                "use client::" + name + " there");
    deny(DenyReason::internal_error, "client::" + name + ": the client side of this layer is in a server chain "
                                                         "(Server); use " + name + " there");
}

}  // namespace authchain
