// The form g++ 12 miscompiles: a client chain written in place inside
// co_await. It must not compile under g++ < 13 (compose/server.hpp says why);
// other compilers take it.
#include <authchain/compose/combinators.hpp>
#include <authchain/compose/server.hpp>

using namespace authchain;

asio::awaitable<Session> connect(Stream stream) {
    co_return co_await authenticate(std::move(stream), pass() | pass());
}
