#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>

#include <authchain/compose/combinators.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace std::chrono_literals;

namespace {

// A layer that appends its name to a shared trace and notes itself.
Authenticator tracer(std::string name, std::shared_ptr<std::vector<std::string>> trace) {
    return [name, trace](Session s) -> asio::awaitable<Session> {
        trace->push_back(name);
        s.credentials.note(name, "ran");
        co_return s;
    };
}

// Reads one byte: blocks while the peer sends nothing.
Authenticator reads_one_byte() {
    return [](Session s) -> asio::awaitable<Session> {
        char b;
        co_await read_exact(s.stream, asio::buffer(&b, 1), "one byte");
        s.credentials.note("reader", "read");
        co_return s;
    };
}

template <class F>
DenyReason refusal_of(F f) {
    try {
        f();
    } catch (const AuthenticationError& e) {
        return e.reason();
    }
    FAIL("not refused");
    return DenyReason::denied;
}

}  // namespace

TEST_CASE("a | b runs a first, then b, on what a returned") {
    auto trace = std::make_shared<std::vector<std::string>>();
    auto chain = tracer("a", trace) | tracer("b", trace) | pass() | tracer("c", trace);
    auto layers = test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::string>> {
        auto [c, s] = make_pipe(ex);
        Session out = co_await chain(start_session(std::move(s)));
        co_return out.credentials.layers();
    });
    CHECK(*trace == std::vector<std::string>{"a", "b", "c"});
    CHECK(layers == std::vector<std::string>{"transport", "a", "b", "c"});
}

TEST_CASE("a refusal stops the chain: later layers never run") {
    auto trace = std::make_shared<std::vector<std::string>>();
    auto no = check([](const Credentials&) { return false; }, "never");
    auto chain = tracer("a", trace) | no | tracer("b", trace);
    auto reason = refusal_of([&] {
        test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            auto [c, s] = make_pipe(ex);
            co_await chain(start_session(std::move(s)));
        });
    });
    CHECK(reason == DenyReason::denied);
    CHECK(*trace == std::vector<std::string>{"a"});
}

TEST_CASE("check passes on true and is logged") {
    auto chain = check([](const Credentials& c) { return c.peer.known(); }, "has_peer");
    auto layers = test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::string>> {
        auto [c, s] = make_pipe(ex);
        Session out = co_await chain(start_session(std::move(s)));
        co_return out.credentials.layers();
    });
    CHECK(layers.back() == "has_peer");
}

TEST_CASE("the example from the design: refuse root") {
    auto not_root = check([](const Credentials& c) { return !(c.user == std::string("root")); });
    auto as_user = [](std::string name) -> Authenticator {
        return [name](Session s) -> asio::awaitable<Session> {
            s.credentials.prove("test", &Credentials::user, name, "user");
            co_return s;
        };
    };
    auto run_as = [&](std::string name) {
        test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            auto [c, s] = make_pipe(ex);
            co_await (as_user(name) | not_root)(start_session(std::move(s)));
        });
    };
    CHECK_NOTHROW(run_as("alice"));
    CHECK(refusal_of([&] { run_as("root"); }) == DenyReason::denied);
}

TEST_CASE("with_timeout refuses a stalled handshake with timeout") {
    auto reason = refusal_of([&] {
        test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            auto [c, s] = make_pipe(ex);  // the client never writes
            co_await with_timeout(50ms, reads_one_byte())(start_session(std::move(s)));
        });
    });
    CHECK(reason == DenyReason::timeout);
}

TEST_CASE("with_timeout refuses a peer that stalls mid-message") {
    auto reason = refusal_of([&] {
        test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            PipeOptions o;
            o.server.faults.stall_after = 0;
            auto [c, s] = make_pipe(ex, o);
            co_await write_all(c, asio::buffer(std::string("x")));
            co_await with_timeout(50ms, reads_one_byte())(start_session(std::move(s)));
        });
    });
    CHECK(reason == DenyReason::timeout);
}

TEST_CASE("with_timeout lets a prompt handshake through") {
    CHECK_NOTHROW(test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c, s] = make_pipe(ex);
        co_await write_all(c, asio::buffer(std::string("x")));
        Session out = co_await with_timeout(5s, reads_one_byte())(start_session(std::move(s)));
        CHECK(out.credentials.layers().back() == "reader");
    }));
}

TEST_CASE("audited records accepted and refused attempts with the layers passed") {
    std::vector<AuditRecord> records;
    auto sink = [&](const AuditRecord& r) { records.push_back(r); };
    auto trace = std::make_shared<std::vector<std::string>>();
    auto good = audited(sink, tracer("a", trace) | tracer("b", trace));
    auto bad = audited(sink, tracer("a", trace) | check([](const Credentials&) { return false; }, "gate"));
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        auto [c1, s1] = make_pipe(ex);
        co_await good(start_session(std::move(s1)));
        auto [c2, s2] = make_pipe(ex);
        try {
            co_await bad(start_session(std::move(s2)));
            FAIL("not refused");
        } catch (const AuthenticationError& e) {
            CHECK(e.reason() == DenyReason::denied);
        }
    });
    REQUIRE(records.size() == 2);
    CHECK(records[0].accepted);
    CHECK_FALSE(records[0].reason);
    CHECK(records[0].layers_passed == std::vector<std::string>{"transport", "a", "b"});
    CHECK(records[0].peer.port() == 40000);
    CHECK_FALSE(records[1].accepted);
    CHECK(records[1].reason == DenyReason::denied);
    CHECK(records[1].layers_passed == std::vector<std::string>{"transport", "a"});
    CHECK(records[1].detail.find("gate refused") != std::string::npos);
}

TEST_CASE("the audit of a timeout names the layers that passed before it") {
    std::vector<AuditRecord> records;
    auto trace = std::make_shared<std::vector<std::string>>();
    Wrapper around = audited([&](const AuditRecord& r) { records.push_back(r); }) | with_timeout(50ms);
    Authenticator chain = around | (tracer("a", trace) | reads_one_byte());
    auto reason = refusal_of([&] {
        test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
            auto [c, s] = make_pipe(ex);  // the client never writes
            Session start = start_session(std::move(s));
            co_await chain(std::move(start));
        });
    });
    CHECK(reason == DenyReason::timeout);
    REQUIRE(records.size() == 1);
    CHECK(records[0].reason == DenyReason::timeout);
    CHECK(records[0].layers_passed == std::vector<std::string>{"transport", "a"});
}
