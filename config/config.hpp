// Configuration of the authchain command: gate.toml and tunnel.toml.
//
// A config file is TOML: top-level settings plus an ordered array of
// [[layer]] tables that builds the chain (see docs/config.md). Loading is
// strict: an unknown key, an unknown layer kind, a wrong type, a missing
// required key or a missing file is a ConfigError naming the file, the
// line and the key. Nothing is read from environment variables.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/compose/credentials.hpp>
#include <authchain/compose/session.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain::config {

// A config that cannot be used. what(): "gate.toml:12: layer[2].authorized_keys:
// file not found: /x". The command exits with status 2 and prints it.
struct ConfigError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Something a layer loaded from files that SIGHUP re-reads (authorized_keys, ...).
struct Reloadable {
    virtual ~Reloadable() = default;
    // Re-reads the files; throws (and keeps the old state) when they are bad.
    virtual void reload() = 0;
    // For logs: "layer[2] public_key: /etc/authchain/authorized_keys".
    virtual std::string name() const = 0;
    // Lines of the files that were skipped ("file:line: why"), as of the
    // last successful load; printed at start, on reload and by --check.
    virtual std::vector<std::string> warnings() const { return {}; }
};

// A Reloadable made of calls, which is what most kinds need: `reload` is
// what SIGHUP runs, `name` names it in logs, `warnings` (may be empty: none)
// lists what the last load skipped.
std::shared_ptr<Reloadable> make_reloadable(std::function<void()> reload, std::function<std::string()> name,
                                            std::function<std::vector<std::string>()> warnings = {});

// One [[allow]] rule of a gate: every field present must match.
struct AllowRule {
    std::optional<std::string> key_fingerprint, user, cert_subject;
    std::optional<std::string> psk_id;  // the key id a psk layer proved
    // TLS: one subject alternative name of the peer ("DNS:x", "URI:y"), and
    // the peer's SPKI pin ("sha256//BASE64", cert_fingerprint).
    std::optional<std::string> cert_san, spki;
    std::optional<std::string> cert_key_id;  // an OpenSSH certificate's key id
    // True when every present field equals the proven fact (an absent fact
    // never matches a present field).
    bool matches(const Credentials&) const;
};

struct CommonConfig {
    std::filesystem::path file;
    // A TCP address (host 127.0.0.1 unless given); required but for probe,
    // whose listen.host stays empty and listen.port 0 when it is left out.
    Endpoint listen;
    std::chrono::milliseconds handshake_timeout{10000};
    std::size_t max_connections = 1024;     // concurrent sessions
    std::size_t max_connections_per_source = 0;  // of those, from one source; 0: max_connections / 2 (gate), max_connections (tunnel: its clients are local)
    std::string audit_log;                  // path, "-" for stdout, empty = none
    Authenticator chain;                    // built from [[layer]] in order
    std::vector<std::shared_ptr<Reloadable>> reloadables;  // files re-read on SIGHUP
    std::vector<std::string> layer_names;   // kinds in order, for logs
    // Process settings (docs/config.md, "Running as a service").
    std::string log_level = "info";              // "error", "warning", "info", "debug"
    std::optional<Endpoint> metrics_listen;      // Prometheus GET /metrics; none by default
    std::chrono::milliseconds idle_timeout{0};   // 0: off
    std::chrono::milliseconds keepalive{0};      // TCP keepalive idle time on both sockets; 0: off
    bool socket_activation = false;              // take the listening socket from systemd (LISTEN_FDS)
    std::size_t threads = 0;                     // event loops serving connections; 0: one per core
    // Many connections over one authenticated connection (relay/multiplex.hpp);
    // both ends must say the same. The other two keys need multiplex = true.
    bool multiplex = false;
    std::uint32_t multiplex_max_streams = 1024;  // gate: open at once per channel; tunnel: what it announces
    std::uint32_t multiplex_window = 256 * 1024; // receive window per stream, bytes
};

struct GateConfig : CommonConfig {
    Endpoint backend;
    std::optional<std::string> proxy_protocol;  // "v2"
    // Trusted PROXY v2 in: connections from these sources must start with a
    // valid v2 header; its source address is then the peer. Empty: off.
    std::vector<std::string> proxy_protocol_from;
    // With proxy_protocol_from: other sources are served as direct clients
    // instead of being closed unread.
    bool proxy_protocol_optional_from_others = false;
    // Authenticated identities allowed through; when non-empty, a session
    // matching no rule is denied by a final check in `chain`.
    std::vector<AllowRule> allow;
    std::optional<std::string> user;
    std::chrono::milliseconds grace{10000};
};

struct TunnelConfig : CommonConfig {
    Endpoint server;
};

// What a tunnel config is loaded for: `authchain tunnel` listens, so
// "listen" is required; `authchain probe` does not listen, so it may be
// left out (a listen that is given is still checked).
enum class TunnelCommand { tunnel, probe };

// Loads and validates a gate config ("listen" is required); builds the
// server chain (keys are loaded now). Throws ConfigError.
GateConfig load_gate_config(const std::filesystem::path&);
// Loads and validates a tunnel/probe config for `command`; builds the client
// chain. Throws ConfigError.
TunnelConfig load_tunnel_config(const std::filesystem::path&, TunnelCommand command = TunnelCommand::probe);

// The same from text already read; `file` names it in messages and is what
// relative paths resolve against. Pure but for the files the layers load.
GateConfig parse_gate_config(std::string_view text, const std::filesystem::path& file);
TunnelConfig parse_tunnel_config(std::string_view text, const std::filesystem::path& file,
                                 TunnelCommand command = TunnelCommand::probe);

}  // namespace authchain::config
