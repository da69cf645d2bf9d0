// any_of with failure_throttle: every failed method counts, and a source
// that becomes blocked mid-connection gets no further attempt.
#include <doctest/doctest.h>

#include <authchain/auth/failure_throttle.hpp>
#include <authchain/compose/any_of.hpp>
#include <authchain/compose/combinators.hpp>
#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;

TEST_CASE("any_of: failed methods count in failure_throttle, and a blocked source is stopped mid-connection") {
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 2});
    bool c_ran = false;
    Authenticator c = [&c_ran](Session s) -> asio::awaitable<Session> {
        c_ran = true;
        co_return s;
    };
    auto no = [] { return check([](const Credentials&) { return false; }, "no"); };
    auto server = failure_throttle(
        table, any_of({{"a", no()}, {"b", no()}, {"c", c}},
                      {.max_attempts = 3, .on_failed_attempt = [table](const Credentials& cr, const AuthenticationError&) {
                           table->record_failure(cr.peer->address());
                           if (table->blocked(cr.peer->address())) deny(DenyReason::host_blocked, "blocked by failures");
                       }}));
    auto client = client::any_of({{"a", pass()}, {"b", pass()}, {"c", pass()}});
    auto r = pk_test::handshake(server, client);
    CHECK(r.server.reason() == DenyReason::host_blocked);
    CHECK_FALSE(r.client.credentials);
    CHECK_FALSE(c_ran);
    CHECK(table->blocked(asio::ip::make_address("127.0.0.1")));
    // The next connection from the source is refused before any method runs.
    auto again = pk_test::handshake(server, client);
    CHECK(again.server.reason() == DenyReason::host_blocked);
}
