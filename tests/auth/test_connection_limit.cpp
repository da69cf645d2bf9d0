#include <doctest/doctest.h>

#include <authchain/auth/connection_limit.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;

namespace {

PipeOptions from(const char* address) {
    PipeOptions o;
    o.client.endpoint = {asio::ip::make_address(address), 40000};
    return o;
}

// Tries one session from `address`; keeps it in `live` when it passes.
asio::awaitable<std::optional<DenyReason>> attempt(Authenticator& limit, const asio::any_io_executor& ex,
                                                   const char* address,
                                                   std::vector<Session>& live) {
    auto [c, s] = make_pipe(ex, from(address));
    try {
        live.push_back(co_await limit(start_session(std::move(s))));
        co_return std::nullopt;
    } catch (const AuthenticationError& e) {
        co_return e.reason();
    }
}

}  // namespace

TEST_CASE("connection_limit: the n+1th live session is busy; a slot frees when the connection ends") {
    auto limit = connection_limit(2, 2);  // all from one address here
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c1, s1] = make_pipe(ex);
        auto [c2, s2] = make_pipe(ex);
        auto [c3, s3] = make_pipe(ex);
        auto [c4, s4] = make_pipe(ex);
        Session a = co_await limit(start_session(std::move(s1)));
        std::optional<Session> b = co_await limit(start_session(std::move(s2)));
        try {
            co_await limit(start_session(std::move(s3)));
            FAIL("third session admitted");
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::busy);
        }
        b.reset();  // that connection is gone: its slot is free again
        Session d = co_await limit(start_session(std::move(s4)));
        CHECK(d.credentials.layers().back() == "connection_limit");
    });
}

TEST_CASE("connection_limit: the slot is held by wrapped streams too") {
    // A refused session must not leak its slot, and the slot lives as long
    // as the connection even when the Session object is moved around.
    auto limit = connection_limit(1);
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c1, s1] = make_pipe(ex);
        auto [c2, s2] = make_pipe(ex);
        auto [c3, s3] = make_pipe(ex);
        {
            Session a = co_await limit(start_session(std::move(s1)));
            Session moved = std::move(a);
            CHECK_THROWS_AS(co_await limit(start_session(std::move(s2))), AuthenticationError);
        }
        CHECK_NOTHROW(co_await limit(start_session(std::move(s3))));
    });
}

TEST_CASE("connection_limit(0) refuses everything") {
    auto limit = connection_limit(0);
    CHECK_THROWS_AS(test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await limit(start_session(std::move(s)));
    }), AuthenticationError);
}

TEST_CASE("connection_limit: one source past its share is busy while another source still gets in") {
    auto limit = connection_limit(10, 2);
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        std::vector<Session> live;
        CHECK_FALSE(co_await attempt(limit, ex, "192.0.2.1", live));
        CHECK_FALSE(co_await attempt(limit, ex, "192.0.2.1", live));
        CHECK(co_await attempt(limit, ex, "192.0.2.1", live) == DenyReason::busy);
        CHECK_FALSE(co_await attempt(limit, ex, "198.51.100.1", live));
        live.erase(live.begin());  // one of the first source's connections ends
        CHECK_FALSE(co_await attempt(limit, ex, "192.0.2.1", live));
        CHECK(co_await attempt(limit, ex, "192.0.2.1", live) == DenyReason::busy);
    });
}

TEST_CASE("connection_limit: by default a source holds max / 2 of the slots; the flood leaves the rest") {
    auto limit = connection_limit(1024);
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        std::vector<Session> live;
        std::size_t busy = 0;
        for (int i = 0; i < 1024; ++i)
            if (co_await attempt(limit, ex, "192.0.2.1", live) == DenyReason::busy) ++busy;
        CHECK(live.size() == 512);
        CHECK(busy == 1024 - 512);
        CHECK_FALSE(co_await attempt(limit, ex, "198.51.100.1", live));
    });
}

TEST_CASE("connection_limit: an IPv6 source is its /64; a mapped address is its IPv4 address") {
    auto limit = connection_limit(16, 2);  // a share of 2
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        std::vector<Session> live;
        CHECK_FALSE(co_await attempt(limit, ex, "2001:db8:0:1::1", live));
        CHECK_FALSE(co_await attempt(limit, ex, "2001:db8:0:1::2", live));
        CHECK(co_await attempt(limit, ex, "2001:db8:0:1:ffff::3", live) == DenyReason::busy);
        CHECK_FALSE(co_await attempt(limit, ex, "2001:db8:0:2::1", live));
        CHECK_FALSE(co_await attempt(limit, ex, "10.0.0.1", live));
        CHECK_FALSE(co_await attempt(limit, ex, "::ffff:10.0.0.1", live));
        CHECK(co_await attempt(limit, ex, "10.0.0.1", live) == DenyReason::busy);
        CHECK(co_await attempt(limit, ex, "::ffff:10.0.0.1", live) == DenyReason::busy);
    });
}
