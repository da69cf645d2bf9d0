#include "compose/session.hpp"

#include <memory>

namespace authchain {

namespace {

struct Pair {
    Authenticator first;
    Authenticator then;
};

asio::awaitable<Session> run_pair(std::shared_ptr<const Pair> pair, Session session) {
    Session middle = co_await pair->first(std::move(session));
    // Record progress so the audit of a later denial names what passed.
    if (const auto& trail = middle.stream.trail()) trail->layers_passed = middle.credentials.layers();
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
    return session;
}

}  // namespace authchain
