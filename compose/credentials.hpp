// Credentials: the typed facts a chain has proven about the peer.
//
// Layers only add. Each fact can be proven once; proving it again is a
// logic error (CredentialConflict), so a later layer can never overwrite
// what an earlier one established.
#pragma once

#include <asio/ip/tcp.hpp>
#include <concepts>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <authchain/compose/bytes.hpp>

namespace authchain {

class Credentials;

// One proven fact, readable like an optional, settable only through
// Credentials::prove. A fact not proven costs one pointer: a connection
// proves a few of the facts below, and its Credentials live as long as it
// (an idle connection's memory, issue 11).
template <class T>
class Fact {
public:
    Fact() = default;
    Fact(const Fact& other) : value_(copy(other)) {}
    Fact(Fact&&) noexcept = default;

    bool known() const noexcept { return value_ != nullptr; }
    explicit operator bool() const noexcept { return known(); }
    const T& operator*() const { return *value_; }
    const T* operator->() const { return value_.get(); }
    // Throws std::bad_optional_access when not known, as std::optional does.
    const T& value() const {
        if (!value_) throw std::bad_optional_access();
        return *value_;
    }
    T value_or(T fallback) const { return value_ ? *value_ : std::move(fallback); }

    friend bool operator==(const Fact& f, const T& v) { return f.value_ && *f.value_ == v; }

private:
    friend class Credentials;
    Fact& operator=(const Fact& other) {
        if (this != &other) value_ = copy(other);
        return *this;
    }
    Fact& operator=(Fact&&) noexcept = default;
    void set(T value) { value_ = std::make_unique<T>(std::move(value)); }
    static std::unique_ptr<T> copy(const Fact& f) { return f.value_ ? std::make_unique<T>(*f.value_) : nullptr; }
    std::unique_ptr<T> value_;
};

// Options an authorized_keys line attached to the key the peer proved.
// Recorded for the application to enforce (authchain itself forwards bytes).
struct KeyRestrictions {
    bool restrict = false;
    std::vector<std::string> no{};          // e.g. "port-forwarding", "pty"
    std::vector<std::string> permitopen{};  // host:port entries
    std::optional<std::string> command{};
    bool operator==(const KeyRestrictions&) const = default;
};

// An entry in the ordered log: which layer proved what.
struct Proof {
    std::string layer;
    std::string fact;
    bool operator==(const Proof&) const = default;
};

// The ordered log of which layer proved what: append-only, through
// Credentials. The one record of a handshake's progress: the connection's
// trail reads this same object (ConnectionTrail::track) to name the layers
// that passed when a later layer refuses.
class ProofLog {
public:
    const std::vector<Proof>& entries() const noexcept { return entries_; }
    // The layers that appear, in order, without repetition.
    std::vector<std::string> layers() const;

private:
    friend class Credentials;
    std::vector<Proof> entries_;
};

namespace detail {
// Credentials' handle on its ProofLog. A copy gets a log of its own (value
// semantics: proofs added to a copy never show in the original); a move
// hands the one log on, so the log follows the Session down the chain.
class ProofLogHandle {
public:
    ProofLogHandle();
    ProofLogHandle(const ProofLogHandle& other);
    ProofLogHandle& operator=(const ProofLogHandle& other);  // copies the entries in place
    ProofLogHandle(ProofLogHandle&&) noexcept = default;
    ProofLogHandle& operator=(ProofLogHandle&&) noexcept = default;

    const ProofLog& get() const noexcept;  // an empty log once moved from
    ProofLog& mutate();                    // a fresh log once moved from
    const std::shared_ptr<ProofLog>& shared() const noexcept { return log_; }

private:
    std::shared_ptr<ProofLog> log_;
};
}  // namespace detail

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
    // TLS (transport/tls.hpp): the peer certificate's common name, subject
    // alternative names ("DNS:x", "URI:y", "IP:z", "email:w"), expiry
    // ("2026-11-30T16:00:00Z"), and the negotiated protocol and suite.
    Fact<std::string> cert_common_name;
    Fact<std::vector<std::string>> cert_san;
    Fact<std::string> cert_not_after;
    Fact<std::string> tls_suite;
    // An OpenSSH user certificate the peer proved (public_key with a
    // cert-authority line); `user` is then the principal it claimed.
    Fact<std::string> cert_key_id;            // the certificate's key id
    Fact<std::string> ssh_cert_serial;        // decimal
    Fact<std::string> ssh_ca_fingerprint;     // "SHA256:..." of the CA key
    Fact<std::string> ssh_cert_valid_before;  // seconds since the epoch, decimal

    // Sets a fact and logs it. Throws CredentialConflict if already known.
    template <class T>
    void prove(std::string_view layer, Fact<T> Credentials::*field, T value,
               std::string_view name) {
        Fact<T>& f = this->*field;
        if (f.known()) conflict(layer, name);
        f.set(std::move(value));
        append(layer, std::string(name));
    }
    // The one-call form, naming the fact as its field is named (the name
    // in the proof log and audit):
    //     s.credentials.prove("my_layer", &Credentials::user, "alice");
    // Throws std::logic_error for a field that has no name in fact_name()
    // (name it with the four-argument form).
    template <class T, class V>
        requires std::constructible_from<T, V&&>
    void prove(std::string_view layer, Fact<T> Credentials::*field, V&& value) {
        prove(layer, field, T(std::forward<V>(value)), fact_name(&(probe().*field)));
    }
    // Application-defined facts (for lambda authenticators); same rules.
    void prove_extra(std::string_view layer, std::string key, std::string value);
    const std::map<std::string, std::string>& extra() const noexcept { return extra_; }
    // Logs that `layer` passed without proving a named fact (e.g. ip_filter).
    void note(std::string_view layer, std::string what);
    // Proves again here what `source` logged from entry `first` on: each
    // fact (named or extra) with the value `source` holds, each note as a
    // note, under the layer that logged it. How the resumption layer
    // (auth/resumption.hpp) stands in for the layers a ticket skips. Throws
    // CredentialConflict when a fact is already known here.
    void restore(const Credentials& source, std::size_t first);

    const std::vector<Proof>& log() const noexcept { return log_.get().entries(); }
    // The layers that passed, in order, without repetition.
    std::vector<std::string> layers() const { return log_.get().layers(); }
    // The proof log itself, shared and read-only: later proofs made through
    // this Credentials, or the one it is moved into, show in it; proofs made
    // through a copy do not. Null once moved from.
    std::shared_ptr<const ProofLog> shared_log() const noexcept { return log_.shared(); }
    // The identity in one short line for logs: "key SHA256:.. user alice ...".
    std::string identity() const;

private:
    // The name of the field at `field`, an address inside probe().
    static std::string_view fact_name(const void* field);
    static const Credentials& probe();
    template <class F>
    static void for_each_field(F&& f);
    [[noreturn]] static void conflict(std::string_view layer, std::string_view name);
    void append(std::string_view layer, std::string fact);

    std::map<std::string, std::string> extra_;
    detail::ProofLogHandle log_;
};

}  // namespace authchain
