#include <doctest/doctest.h>

#include <authchain/auth/failure_throttle.hpp>
#include <authchain/compose/combinators.hpp>
#include <authchain/compose/wrapper.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;

namespace {

using Trace = std::shared_ptr<std::vector<std::string>>;

asio::awaitable<Session> run_traced(std::string name, Trace trace, std::shared_ptr<const Authenticator> inner,
                                    Session s) {
    trace->push_back(name + ">");
    Session out = co_await (*inner)(std::move(s));
    trace->push_back("<" + name);
    co_return out;
}

// A wrapper that logs "name>" when the connection reaches it and "<name"
// when what it wraps returned.
Wrapper tracing(std::string name, Trace trace) {
    return Wrapper([name, trace](Authenticator inner) -> Authenticator {
        auto in = std::make_shared<const Authenticator>(std::move(inner));
        return [name, trace, in](Session s) { return run_traced(name, trace, in, std::move(s)); };
    });
}

asio::awaitable<Session> run_layer(std::string name, Trace trace, Session s) {
    trace->push_back(name);
    s.credentials.note(name, "ran");
    co_return s;
}

Authenticator layer(std::string name, Trace trace) {
    return [name, trace](Session s) { return run_layer(name, trace, std::move(s)); };
}

// Runs `chain` on one pipe connection; returns the layers the session passed.
std::vector<std::string> run_chain(const Authenticator& chain) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::vector<std::string>> {
        auto [c, s] = make_pipe(ex);
        Session start = start_session(std::move(s));
        Session out = co_await chain(std::move(start));
        co_return out.credentials.layers();
    });
}

std::optional<DenyReason> refusal(const Authenticator& chain) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<std::optional<DenyReason>> {
        auto [c, s] = make_pipe(ex);
        try {
            Session start = start_session(std::move(s));
            co_await chain(std::move(start));
        } catch (const AuthenticationError& e) {
            co_return e.reason();
        }
        co_return std::nullopt;
    });
}

Trace new_trace() { return std::make_shared<std::vector<std::string>>(); }

}  // namespace

TEST_CASE("identity() | a behaves as a") {
    auto t1 = new_trace(), t2 = new_trace();
    Authenticator plain = layer("a", t1);
    Authenticator wrapped = identity() | layer("a", t2);
    CHECK(run_chain(plain) == run_chain(wrapped));
    CHECK(*t1 == *t2);
    CHECK(identity().is_identity());
}

TEST_CASE("w | identity() and identity() | w behave as w") {
    auto t1 = new_trace(), t2 = new_trace(), t3 = new_trace();
    Authenticator w = tracing("w", t1) | layer("a", t1);
    Authenticator w_id = (tracing("w", t2) | identity()) | layer("a", t2);
    Authenticator id_w = (identity() | tracing("w", t3)) | layer("a", t3);
    auto layers = run_chain(w);
    CHECK(run_chain(w_id) == layers);
    CHECK(run_chain(id_w) == layers);
    CHECK(*t1 == std::vector<std::string>{"w>", "a", "<w"});
    CHECK(*t2 == *t1);
    CHECK(*t3 == *t1);
}

TEST_CASE("(w1 | w2) | a == w1 | (w2 | a): the wrapper written first sees the connection first") {
    auto t1 = new_trace(), t2 = new_trace();
    Authenticator grouped_left = (tracing("w1", t1) | tracing("w2", t1)) | layer("a", t1);
    Authenticator grouped_right = tracing("w1", t2) | (tracing("w2", t2) | layer("a", t2));
    CHECK(run_chain(grouped_left) == run_chain(grouped_right));
    CHECK(*t1 == std::vector<std::string>{"w1>", "w2>", "a", "<w2", "<w1"});
    CHECK(*t2 == *t1);
}

TEST_CASE("(a | w) | b == a | w(b): a wrapper after a layer wraps the rest of the chain") {
    auto t1 = new_trace(), t2 = new_trace();
    Authenticator chained = (layer("a", t1) | tracing("w", t1)) | layer("b", t1);
    Wrapper w2 = tracing("w", t2);
    Authenticator applied = layer("a", t2) | w2(layer("b", t2));
    CHECK(run_chain(chained) == std::vector<std::string>{"transport", "a", "b"});
    CHECK(run_chain(applied) == std::vector<std::string>{"transport", "a", "b"});
    CHECK(*t1 == std::vector<std::string>{"a", "w>", "b", "<w"});
    CHECK(*t2 == *t1);
}

TEST_CASE("failure_throttle placed mid-chain wraps only what follows it") {
    auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 1});
    bool before_refuses = true;
    Authenticator before = [&](Session s) -> asio::awaitable<Session> {
        if (before_refuses) deny(DenyReason::denied, "refused before the throttle");
        co_return s;
    };
    Authenticator after = [](Session) -> asio::awaitable<Session> { deny(DenyReason::denied, "refused after it"); };
    Authenticator chain = before | failure_throttle(table) | after;

    // A refusal by the layer before it never reaches the throttle.
    CHECK(refusal(chain) == DenyReason::denied);
    CHECK(refusal(chain) == DenyReason::denied);
    CHECK_FALSE(table->blocked(asio::ip::make_address("127.0.0.1")));
    CHECK(table->tracked() == 0);

    // A refusal by the layer after it counts: one failure blocks (max_failures = 1).
    before_refuses = false;
    CHECK(refusal(chain) == DenyReason::denied);
    CHECK(table->blocked(asio::ip::make_address("127.0.0.1")));
    CHECK(refusal(chain) == DenyReason::host_blocked);
}

TEST_CASE("order is behaviour: audited | failure_throttle audits blocked sources, the reverse does not") {
    Authenticator no = [](Session) -> asio::awaitable<Session> { deny(DenyReason::denied, "no"); };
    auto count_audits = [&](bool audit_outside) {
        auto table = std::make_shared<FailureThrottle>(FailureThrottleOptions{.max_failures = 1});
        std::vector<AuditRecord> records;
        AuditSink sink = [&](const AuditRecord& r) { records.push_back(r); };
        Wrapper around = audit_outside ? audited(sink) | failure_throttle(table)
                                       : failure_throttle(table) | audited(sink);
        Authenticator chain = around | no;
        CHECK(refusal(chain) == DenyReason::denied);        // the failure that blocks
        CHECK(refusal(chain) == DenyReason::host_blocked);  // refused by the throttle
        return records;
    };
    auto outside = count_audits(true);
    REQUIRE(outside.size() == 2);
    CHECK(outside[1].reason == DenyReason::host_blocked);
    auto inside = count_audits(false);
    REQUIRE(inside.size() == 1);
    CHECK(inside[0].reason == DenyReason::denied);
}

TEST_CASE("with_timeout as a wrapper and as the two-argument convenience agree") {
    using namespace std::chrono_literals;
    auto t1 = new_trace(), t2 = new_trace();
    Authenticator as_wrapper = with_timeout(5s) | layer("a", t1);
    Authenticator as_function = with_timeout(5s, layer("a", t2));
    CHECK(run_chain(as_wrapper) == run_chain(as_function));
}

TEST_CASE("a wrapper wraps the one operand after it: w | a | b is w(a) | b, w | (a | b) wraps both") {
    auto t1 = new_trace(), t2 = new_trace();
    Authenticator left = tracing("w", t1) | layer("a", t1) | layer("b", t1);
    Authenticator both = tracing("w", t2) | (layer("a", t2) | layer("b", t2));
    CHECK(run_chain(left) == run_chain(both));
    CHECK(*t1 == std::vector<std::string>{"w>", "a", "<w", "b"});
    CHECK(*t2 == std::vector<std::string>{"w>", "a", "b", "<w"});
}
