// Combinators: build authenticators out of predicates and other authenticators.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "compose/session.hpp"
#include "compose/wrapper.hpp"

namespace authchain {

// A pure check over what is proven so far; false -> denied.
//     check([](const Credentials& c) { return c.user != "root"; })
Authenticator check(std::function<bool(const Credentials&)> predicate,
                    std::string name = "check");

// Runs `inner` under a deadline; past it the attempt is refused with
// DenyReason::timeout and the stream is closed.
Authenticator with_timeout(std::chrono::steady_clock::duration limit, Authenticator inner);
// The same as a Wrapper: with_timeout(limit) | inner.
Wrapper with_timeout(std::chrono::steady_clock::duration limit);

// What audited() records for each attempt.
struct AuditRecord {
    std::chrono::system_clock::time_point time;  // when the attempt started
    asio::ip::tcp::endpoint peer;
    std::vector<std::string> layers_passed;
    std::string identity;  // Credentials::identity() of an accepted session
    bool accepted = false;
    std::optional<DenyReason> reason;  // set when refused
    std::string detail;                // local only
    std::chrono::steady_clock::duration duration{};
};
using AuditSink = std::function<void(const AuditRecord&)>;

// Records one AuditRecord per attempt through `inner`, then passes the
// verdict on unchanged.
Authenticator audited(AuditSink sink, Authenticator inner);
// The same as a Wrapper: audited(sink) | inner.
Wrapper audited(AuditSink sink);

}  // namespace authchain
