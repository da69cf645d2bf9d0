// Test harness for secure_channel over the in-memory pipe: both sides at
// once, data helpers, and a man in the middle (a relay between two pipes
// that can rewrite, drop, duplicate or reorder what passes).
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include <authchain/compose/server.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/detail/secure_channel/read_buffer.hpp>

namespace authchain::test::channel_harness {

using asio::awaitable;
using Executor = asio::any_io_executor;


// ---- running two sides at once -------------------------------------------

template <class T>
struct Outcome {
    bool done = false;
    T value{};
    std::exception_ptr error;
};

template <class T>
std::shared_ptr<Outcome<T>> spawn(Executor ex, awaitable<T> work) {
    auto out = std::make_shared<Outcome<T>>();
    asio::co_spawn(ex, std::move(work), [out](std::exception_ptr e, T v) {
        out->done = true;
        out->error = e;
        out->value = std::move(v);
    });
    return out;
}

// Lets the other coroutines run until `out` is done (bounded in steps).
template <class T>
awaitable<void> wait(const std::shared_ptr<Outcome<T>>& out) {
    auto ex = co_await asio::this_coro::executor;
    for (int i = 0; i < 10'000'000 && !out->done; ++i) co_await asio::post(ex, asio::use_awaitable);
    REQUIRE(out->done);
}

template <class T>
awaitable<T> result(const std::shared_ptr<Outcome<T>>& out) {
    co_await wait(out);
    if (out->error) std::rethrow_exception(out->error);
    co_return std::move(out->value);
}

// The AuthenticationError a finished outcome holds (fails the test otherwise).
template <class T>
std::optional<AuthenticationError> error_of(const Outcome<T>& out) {
    if (!out.error) return std::nullopt;
    try {
        std::rethrow_exception(out.error);
    } catch (const AuthenticationError& e) {
        return e;
    } catch (const std::exception& e) {
        FAIL("unexpected exception: " << e.what());
    }
    return std::nullopt;
}

struct Sessions {
    Session client;
    Session server;
};

inline const SecureChannelOptions defaults{};

// Runs both handshakes; both must succeed. (The options are named objects of
// the caller: GCC 12 mishandles class temporaries and default arguments of
// coroutine calls.)
inline awaitable<Sessions> handshake(Stream c, Stream s, const SecureChannelOptions& client_options = defaults,
                              const SecureChannelOptions& server_options = defaults) {
    auto ex = co_await asio::this_coro::executor;
    auto server = spawn(ex, secure_channel(server_options)(start_session(std::move(s))));
    const Authenticator client_chain = client::secure_channel(client_options);
    Session client = co_await client_chain(start_session(std::move(c)));
    Session srv = co_await result(server);
    co_return Sessions{std::move(client), std::move(srv)};
}

// ---- data -----------------------------------------------------------------

inline Bytes pattern(std::size_t n, std::uint32_t seed) {
    Bytes out(n);
    for (auto& b : out) {
        seed = seed * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(seed >> 24);
    }
    return out;
}

inline awaitable<Bytes> read_all(Stream& s) {
    Bytes out;
    std::array<std::uint8_t, 7000> buf;  // not a record multiple
    for (;;) {
        std::size_t n = co_await s.read_some(asio::buffer(buf));
        if (n == 0) co_return out;
        out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
    }
}

inline awaitable<int> write_and_close(Stream& s, Bytes data) {
    co_await write_all(s, asio::buffer(data));
    co_await s.shutdown_send();
    co_return 0;
}

// Sends `a` client->server and `b` server->client at the same time and checks both arrive.
inline awaitable<void> exchange(Sessions& p, const Bytes& a, const Bytes& b) {
    auto ex = co_await asio::this_coro::executor;
    auto w1 = spawn(ex, write_and_close(p.client.stream, a));
    auto w2 = spawn(ex, write_and_close(p.server.stream, b));
    auto r1 = spawn(ex, read_all(p.server.stream));
    Bytes at_client = co_await read_all(p.client.stream);
    CHECK(co_await result(r1) == a);
    CHECK(at_client == b);
    co_await result(w1);
    co_await result(w2);
}

// ---- a man in the middle --------------------------------------------------

// The bytes of one direction cut into units: the negotiation header (offer
// or choice), then every 2-byte-length frame (handshake messages, records).
// An Edit returns what to forward in place of unit `index`.
using Edit = std::function<std::vector<Bytes>(std::size_t index, Bytes unit)>;

inline Edit forward() {
    return [](std::size_t, Bytes unit) { return std::vector<Bytes>{std::move(unit)}; };
}

inline std::size_t unit_size(ByteView view, std::size_t index, bool to_server) {
    if (index == 0) {
        if (!to_server) return view.size() >= 6 ? 6 : 0;
        return view.size() >= 6 && view.size() >= 6u + view[5] ? 6u + view[5] : 0;
    }
    if (view.size() < 2) return 0;
    std::size_t size = 2 + (std::size_t{view[0]} << 8 | view[1]);
    return view.size() >= size ? size : 0;
}

inline awaitable<int> relay(std::shared_ptr<Stream> from, std::shared_ptr<Stream> to, Edit edit, bool to_server) {
    channel::ReadBuffer input(4096, 1 << 20);
    try {
        for (std::size_t index = 0;;) {
            std::size_t size = unit_size(input.view(), index, to_server);
            if (size == 0) {
                if (!co_await input.fill(*from)) break;
                continue;
            }
            Bytes unit(input.view().begin(), input.view().begin() + static_cast<std::ptrdiff_t>(size));
            input.consume(size);
            for (auto& u : edit(index++, std::move(unit))) co_await write_all(*to, asio::buffer(u));
        }
        co_await to->shutdown_send();
    } catch (const std::exception&) {
        to->close();
        from->close();
    }
    co_return 0;
}

struct Mitm {
    Stream client;  // give to the client
    Stream server;  // give to the server
};

inline Mitm make_mitm(Executor ex, Edit to_server, Edit to_client, PipeOptions left = {}, PipeOptions right = {}) {
    auto [client, mitm_left] = make_pipe(ex, left);
    auto [mitm_right, server] = make_pipe(ex, right);
    auto l = std::make_shared<Stream>(std::move(mitm_left));
    auto r = std::make_shared<Stream>(std::move(mitm_right));
    spawn(ex, relay(l, r, std::move(to_server), true));
    spawn(ex, relay(r, l, std::move(to_client), false));
    return {std::move(client), std::move(server)};
}

// Record indexes in each direction: 0 negotiation header, 1 handshake
// message, 2.. records (default suites, no retry).
constexpr std::size_t first_record = 2;

// Reads until an error or the end (bounded); `received` gets what was read first.
inline awaitable<std::optional<AuthenticationError>> read_error(Stream& s, Bytes* received = nullptr) {
    try {
        std::array<std::uint8_t, 1024> buf;
        for (int i = 0; i < 1000; ++i) {
            std::size_t n = co_await s.read_some(asio::buffer(buf));
            if (n == 0) break;
            if (received) received->insert(received->end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(n));
        }
    } catch (const AuthenticationError& e) {
        co_return e;
    }
    co_return std::nullopt;
}

inline awaitable<int> run_server(Server& server) {
    co_await server.run();
    co_return 0;
}

inline SecureChannelOptions only(std::string suite) {
    SecureChannelOptions o;
    o.suites = {std::move(suite)};
    return o;
}


}  // namespace authchain::test::channel_harness
