#include <doctest/doctest.h>

#include "auth/connection_limit.hpp"
#include "tests/support/run.hpp"
#include "transport/pipe.hpp"

using namespace authchain;

TEST_CASE("connection_limit: the n+1th live session is busy; a slot frees when the connection ends") {
    auto limit = connection_limit(2);
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
