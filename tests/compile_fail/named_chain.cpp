// The safe form, taken by every compiler: the chain built into a named
// variable before the co_await.
#include <authchain/compose/combinators.hpp>
#include <authchain/compose/server.hpp>

using namespace authchain;

asio::awaitable<Session> connect(Stream stream) {
    Authenticator chain = pass() | pass();
    co_return co_await authenticate(std::move(stream), chain, {.handshake_timeout = std::chrono::seconds(5)});
}
