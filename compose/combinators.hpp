// Combinators: build authenticators out of predicates and other authenticators.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include <authchain/compose/session.hpp>
#include <authchain/compose/wrapper.hpp>

namespace authchain {

// A pure check over what is proven so far; false -> denied.
//     check([](const Credentials& c) { return c.user != "root"; })
Authenticator check(std::function<bool(const Credentials&)> predicate,
                    std::string name = "check");

// Runs what it wraps under a deadline (a Deadline): at `limit` it closes the
// connection's top stream, which aborts whatever the layers wait for, and
// the attempt is refused with DenyReason::timeout.
//     with_timeout(10s) | (secure_channel() | public_key(k))
Wrapper with_timeout(std::chrono::steady_clock::duration limit);
// Convenience: with_timeout(limit)(inner).
Authenticator with_timeout(std::chrono::steady_clock::duration limit, Authenticator inner);

// What audited() records for each attempt.
struct AuditRecord {
    std::chrono::system_clock::time_point time{};  // when the attempt started
    asio::ip::tcp::endpoint peer{};
    std::vector<std::string> layers_passed{};
    std::string identity;  // Credentials::identity() of an accepted session
    bool accepted = false;
    std::optional<DenyReason> reason{};  // set when refused
    std::string detail{};                // local only
    std::chrono::steady_clock::duration duration{};
};
using AuditSink = std::function<void(const AuditRecord&)>;

// Records one AuditRecord per attempt through what it wraps, then passes
// the verdict on unchanged (the session, or the very exception). A refusal
// is recorded as refusal_for() classifies it; its layers_passed come from
// the connection's trail (the layers that passed before the refusal).
Wrapper audited(AuditSink sink);
// Convenience: audited(sink)(inner).
Authenticator audited(AuditSink sink, Authenticator inner);

}  // namespace authchain
