#include <authchain/compose/combinators.hpp>

#include <asio/this_coro.hpp>
#include <fmt/format.h>
#include <memory>
#include <optional>

#include <authchain/compose/deadline.hpp>

namespace authchain {

namespace {

asio::awaitable<Session> run_check(std::shared_ptr<const std::function<bool(const Credentials&)>> predicate,
                                   std::string name, Session session) {
    if (!(*predicate)(session.credentials)) deny(DenyReason::denied, name + " refused " + session.credentials.identity());
    session.credentials.note(name, "passed");
    co_return session;
}

asio::awaitable<Session> run_timed(std::shared_ptr<const Authenticator> inner,
                                   std::chrono::steady_clock::duration limit, Session session) {
    // At the deadline, close the top stream of the connection: that aborts
    // whatever the layers are waiting for, whichever transport it is.
    std::weak_ptr<ConnectionTrail> trail = session.stream.trail();
    auto executor = co_await asio::this_coro::executor;
    Deadline deadline(executor, limit, [trail] {
        if (auto t = trail.lock()) t->close_top();
    });
    try {
        Session result = co_await (*inner)(std::move(session));
        deadline.cancel();
        if (!deadline.expired()) co_return result;
    } catch (...) {
        deadline.cancel();
        if (!deadline.expired()) throw;
    }
    // Whatever the layers made of the closed stream, the cause is the deadline.
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(limit).count();
    deny(DenyReason::timeout, fmt::format("handshake exceeded {} ms", ms));
}

asio::awaitable<Session> run_audited(std::shared_ptr<const AuditSink> sink,
                                     std::shared_ptr<const Authenticator> inner, Session session) {
    AuditRecord record;
    record.time = std::chrono::system_clock::now();
    record.peer = session.stream.remote_endpoint();
    auto start = std::chrono::steady_clock::now();
    std::shared_ptr<const ConnectionTrail> trail = session.stream.trail();
    std::optional<Session> result;
    std::exception_ptr failure;
    try {
        result.emplace(co_await (*inner)(std::move(session)));
    } catch (...) {
        failure = std::current_exception();
    }
    if (result) {
        record.accepted = true;
        record.layers_passed = result->credentials.layers();
        record.identity = result->credentials.identity();
        record.duration = std::chrono::steady_clock::now() - start;
        (*sink)(record);
        co_return std::move(*result);
    }
    AuthenticationError refusal = refusal_for(failure);
    record.reason = refusal.reason();
    record.detail = refusal.detail();
    if (trail) record.layers_passed = trail->layers_passed();
    record.duration = std::chrono::steady_clock::now() - start;
    (*sink)(record);
    std::rethrow_exception(failure);
}

}  // namespace

Authenticator check(std::function<bool(const Credentials&)> predicate, std::string name) {
    auto p = std::make_shared<const std::function<bool(const Credentials&)>>(std::move(predicate));
    return [p, name = std::move(name)](Session session) { return run_check(p, name, std::move(session)); };
}

Wrapper with_timeout(std::chrono::steady_clock::duration limit) {
    return Wrapper([limit](Authenticator inner) -> Authenticator {
        auto wrapped = std::make_shared<const Authenticator>(std::move(inner));
        return [wrapped, limit](Session session) { return run_timed(wrapped, limit, std::move(session)); };
    });
}

Authenticator with_timeout(std::chrono::steady_clock::duration limit, Authenticator inner) {
    return with_timeout(limit)(std::move(inner));
}

Wrapper audited(AuditSink sink) {
    auto s = std::make_shared<const AuditSink>(std::move(sink));
    return Wrapper([s](Authenticator inner) -> Authenticator {
        auto wrapped = std::make_shared<const Authenticator>(std::move(inner));
        return [s, wrapped](Session session) { return run_audited(s, wrapped, std::move(session)); };
    });
}

Authenticator audited(AuditSink sink, Authenticator inner) { return audited(std::move(sink))(std::move(inner)); }

}  // namespace authchain
