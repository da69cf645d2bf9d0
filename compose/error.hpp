// Denial: the one error type a layer throws to refuse a connection.
#pragma once

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace authchain {

// Coarse reasons: the only thing a refused peer is told (DESIGN rule 6).
// The numeric values travel on the wire; never renumber.
enum class DenyReason : std::uint8_t {
    busy = 1,            // too many connections
    host_blocked = 2,    // source refused by policy or throttled
    denied = 3,          // an authenticator said no
    protocol_error = 4,  // malformed, tampered or unexpected bytes
    timeout = 5,         // a handshake step missed its deadline
    internal_error = 6,  // a bug on the refusing side, not the peer's fault
};

std::string_view to_string(DenyReason reason);
std::optional<DenyReason> deny_reason_from_byte(std::uint8_t value);

// Thrown by a layer to refuse the connection. `detail` is for the local
// audit log only and is never sent to the peer.
class AuthenticationError : public std::runtime_error {
public:
    AuthenticationError(DenyReason reason, std::string detail);

    DenyReason reason() const noexcept { return reason_; }
    const std::string& detail() const noexcept { return detail_; }

private:
    DenyReason reason_;
    std::string detail_;
};

[[noreturn]] void deny(DenyReason reason, std::string detail);

// A client-side layer throws this (reason denied) when it read the server's
// refusal and its own exchange is complete, so the stream is still coherent
// and any_of (compose/any_of.hpp) may offer another method. Any other
// denial ends the connection.
class RefusedByPeer : public AuthenticationError {
public:
    explicit RefusedByPeer(std::string detail) : AuthenticationError(DenyReason::denied, std::move(detail)) {}
};
[[noreturn]] void refused_by_peer(std::string detail);

// Any exception that ended a handshake, as the refusal the drivers send and
// audited() records:
//   AuthenticationError                    itself
//   std::system_error (I/O: peer reset,    protocol_error, detail what()
//     end of stream, aborted operation)
//   anything else (CredentialConflict,     internal_error, detail
//     std::out_of_range, bad_alloc, ...)     "internal error: <what()>"
// The last is a bug in a layer, never the peer's fault.
// Precondition: `error` is not null.
AuthenticationError refusal_for(std::exception_ptr error);

// The what() of a thrown exception; "unknown exception" for one that is not
// a std::exception.
std::string what_of(const std::exception_ptr& error);

}  // namespace authchain
