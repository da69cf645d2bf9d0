#include "compose/combinators.hpp"

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <fmt/format.h>
#include <memory>

namespace authchain {

namespace {

asio::awaitable<Session> run_check(std::shared_ptr<const std::function<bool(const Credentials&)>> predicate,
                                   std::string name, Session session) {
    if (!(*predicate)(session.credentials)) deny(DenyReason::denied, name + " refused " + session.credentials.identity());
    session.credentials.note(name, "passed");
    co_return session;
}

asio::awaitable<Session> run_timed(Authenticator inner, std::chrono::steady_clock::duration limit,
                                   Session session) {
    // At the deadline, close the top stream of the connection: that aborts
    // whatever the layers are waiting for, whichever transport it is.
    auto trail = session.stream.trail();
    auto fired = std::make_shared<bool>(false);
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    timer.async_wait([weak = std::weak_ptr<ConnectionTrail>(trail), fired](std::error_code ec) {
        if (ec) return;
        *fired = true;
        if (auto t = weak.lock())
            if (auto top = t->top.lock()) top->close();
    });
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(limit).count();
    try {
        Session result = co_await inner(std::move(session));
        timer.cancel();
        if (*fired) deny(DenyReason::timeout, fmt::format("handshake exceeded {} ms", ms));
        co_return result;
    } catch (...) {
        timer.cancel();
        if (!*fired) throw;
    }
    deny(DenyReason::timeout, fmt::format("handshake exceeded {} ms", ms));
}

asio::awaitable<Session> run_audited(std::shared_ptr<const AuditSink> sink, Authenticator inner,
                                     Session session) {
    AuditRecord record;
    record.time = std::chrono::system_clock::now();
    record.peer = session.stream.remote_endpoint();
    auto start = std::chrono::steady_clock::now();
    auto trail = session.stream.trail();
    auto finish = [&] {
        record.duration = std::chrono::steady_clock::now() - start;
        (*sink)(record);
    };
    try {
        Session result = co_await inner(std::move(session));
        record.accepted = true;
        record.layers_passed = result.credentials.layers();
        record.identity = result.credentials.identity();
        finish();
        co_return result;
    } catch (const AuthenticationError& e) {
        record.reason = e.reason();
        record.detail = e.detail();
    } catch (const std::exception& e) {
        record.reason = DenyReason::protocol_error;
        record.detail = e.what();
    }
    if (trail) record.layers_passed = trail->layers_passed;
    finish();
    throw AuthenticationError(*record.reason, record.detail);
}

}  // namespace

Authenticator check(std::function<bool(const Credentials&)> predicate, std::string name) {
    auto p = std::make_shared<const std::function<bool(const Credentials&)>>(std::move(predicate));
    return [p, name = std::move(name)](Session session) { return run_check(p, name, std::move(session)); };
}

Authenticator with_timeout(std::chrono::steady_clock::duration limit, Authenticator inner) {
    return [inner = std::move(inner), limit](Session session) {
        return run_timed(inner, limit, std::move(session));
    };
}

Authenticator audited(AuditSink sink, Authenticator inner) {
    auto s = std::make_shared<const AuditSink>(std::move(sink));
    return [s, inner = std::move(inner)](Session session) {
        return run_audited(s, inner, std::move(session));
    };
}

Wrapper with_timeout(std::chrono::steady_clock::duration limit) {
    return Wrapper([limit](Authenticator inner) { return with_timeout(limit, std::move(inner)); });
}

Wrapper audited(AuditSink sink) {
    return Wrapper([sink = std::move(sink)](Authenticator inner) { return audited(sink, std::move(inner)); });
}

}  // namespace authchain
