// Credentials: the typed facts a chain has proven about the peer.
//
// Layers only add. Each fact can be proven once; proving it again is a
// logic error (CredentialConflict), so a later layer can never overwrite
// what an earlier one established.
#pragma once

#include <asio/ip/tcp.hpp>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "compose/bytes.hpp"

namespace authchain {

class Credentials;

// One proven fact, readable like an optional, settable only through
// Credentials::prove.
template <class T>
class Fact {
public:
    Fact() = default;
    Fact(const Fact&) = default;
    Fact(Fact&&) noexcept = default;

    bool known() const noexcept { return value_.has_value(); }
    explicit operator bool() const noexcept { return known(); }
    const T& operator*() const { return *value_; }
    const T* operator->() const { return &*value_; }
    const T& value() const { return value_.value(); }
    T value_or(T fallback) const { return value_ ? *value_ : std::move(fallback); }

    friend bool operator==(const Fact& f, const T& v) { return f.value_ && *f.value_ == v; }

private:
    friend class Credentials;
    Fact& operator=(const Fact&) = default;
    Fact& operator=(Fact&&) noexcept = default;
    std::optional<T> value_;
};

// Options an authorized_keys line attached to the key the peer proved.
// Recorded for the application to enforce (authchain itself forwards bytes).
struct KeyRestrictions {
    bool restrict = false;
    std::vector<std::string> no;          // e.g. "port-forwarding", "pty"
    std::vector<std::string> permitopen;  // host:port entries
    std::optional<std::string> command;
    bool operator==(const KeyRestrictions&) const = default;
};

// An entry in the ordered log: which layer proved what.
struct Proof {
    std::string layer;
    std::string fact;
    bool operator==(const Proof&) const = default;
};

class CredentialConflict : public std::logic_error {
public:
    using std::logic_error::logic_error;
};

class Credentials {
public:
    Fact<asio::ip::tcp::endpoint> peer;
    Fact<Bytes> channel_id;
    Fact<std::string> key_type;         // "ssh-ed25519", ...
    Fact<std::string> key_fingerprint;  // "SHA256:..." as ssh-keygen -l
    Fact<std::string> key_comment;
    Fact<KeyRestrictions> key_restrictions;
    Fact<std::string> host_name;        // server identity matched in known_hosts
    Fact<std::string> user;
    Fact<std::string> cert_subject;
    Fact<std::string> cert_serial;
    Fact<std::string> cert_fingerprint;
    Fact<std::string> psk_id;

    // Sets a fact and logs it. Throws CredentialConflict if already known.
    template <class T>
    void prove(std::string_view layer, Fact<T> Credentials::*field, T value,
               std::string_view name) {
        Fact<T>& f = this->*field;
        if (f.known()) conflict(layer, name);
        f.value_ = std::move(value);
        log_.push_back({std::string(layer), std::string(name)});
    }
    // Application-defined facts (for lambda authenticators); same rules.
    void prove_extra(std::string_view layer, std::string key, std::string value);
    const std::map<std::string, std::string>& extra() const noexcept { return extra_; }
    // Logs that `layer` passed without proving a named fact (e.g. ip_filter).
    void note(std::string_view layer, std::string what);

    const std::vector<Proof>& log() const noexcept { return log_; }
    // The layers that passed, in order, without repetition.
    std::vector<std::string> layers() const;
    // The identity in one short line for logs: "key SHA256:.. user alice ...".
    std::string identity() const;

private:
    [[noreturn]] static void conflict(std::string_view layer, std::string_view name);

    std::map<std::string, std::string> extra_;
    std::vector<Proof> log_;
};

}  // namespace authchain
