#include <authchain/compose/error.hpp>

#include <fmt/format.h>
#include <system_error>

namespace authchain {

std::string_view to_string(DenyReason reason) {
    switch (reason) {
        case DenyReason::busy: return "busy";
        case DenyReason::host_blocked: return "host blocked";
        case DenyReason::denied: return "denied";
        case DenyReason::protocol_error: return "protocol error";
        case DenyReason::timeout: return "timeout";
        case DenyReason::internal_error: return "internal error";
    }
    return "denied";
}

std::optional<DenyReason> deny_reason_from_byte(std::uint8_t value) {
    if (value < 1 || value > 6) return std::nullopt;
    return static_cast<DenyReason>(value);
}

AuthenticationError::AuthenticationError(DenyReason reason, std::string detail)
    : std::runtime_error(fmt::format("{}: {}", to_string(reason), detail)),
      reason_(reason),
      detail_(std::move(detail)) {}

void deny(DenyReason reason, std::string detail) {
    throw AuthenticationError(reason, std::move(detail));
}

void refused_by_peer(std::string detail) { throw RefusedByPeer(std::move(detail)); }

AuthenticationError refusal_for(std::exception_ptr error) {
    try {
        std::rethrow_exception(error);
    } catch (const AuthenticationError& e) {
        return e;
    } catch (const std::system_error& e) {
        return AuthenticationError(DenyReason::protocol_error, e.what());
    } catch (const std::exception& e) {
        return AuthenticationError(DenyReason::internal_error, std::string("internal error: ") + e.what());
    } catch (...) {
        return AuthenticationError(DenyReason::internal_error, "internal error: unknown exception");
    }
}

std::string what_of(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

}  // namespace authchain
