// The process life of `authchain gate` and `authchain tunnel`, written once:
// audit log, listener (tools/listener.hpp: keepalive, trusted PROXY v2 in,
// socket activation), privilege drop, metrics, systemd notification, start
// and exit events, the event loops (`threads`, one io_context and one
// thread each, compose/event_loops.hpp), and the signals.
//
//   SIGHUP          re-reads the whole config file and every file it names;
//                   new connections use the new chain, backend, [[allow]],
//                   limits and timeouts, live ones keep theirs. An invalid
//                   config is reported and the old one stays in use.
//                   Settings that need a restart (listen, user, ...) are
//                   reported as such. The audit log file is reopened.
//   SIGTERM/SIGINT  stop accepting; live connections get `grace` to finish,
//                   then they are closed; the process exits 0.
//
// A command only says what it serves (tools/gate.cpp, tools/tunnel.cpp):
// a ServiceSetup per reading of its config file.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <authchain/compose/server.hpp>
#include "config/config.hpp"
#include <authchain/relay/forward.hpp>
#include "tools/audit_log.hpp"
#include "tools/metrics.hpp"

namespace authchain::tools {

// The command is built on the config wing: its types are the command's vocabulary.
using namespace authchain::config;

class ServiceListener;

// What the service gives the command to build its handler with.
struct ServiceContext {
    AuditLog& audit;
    Metrics& metrics;
    std::shared_ptr<LiveForwards> live;  // closed after the grace period at shutdown
    asio::ip::tcp::endpoint listening;   // the bound address (the real port of "127.0.0.1:0")
    const ServiceListener& listener;     // balancer_of(): the audit's "via"
};

// What the command serves. The server chain runs after
// connection_limit(max_connections) and under handshake_timeout; refused
// attempts are audited by the service, rate-limited per source and reason
// (tools/audit_throttle.hpp); the handler audits the rest, unlimited.
struct Served {
    Authenticator chain;
    Handler handler;
    // Optional: runs when a reload replaced this configuration (the gate
    // tells its multiplexed channels to go away, so their tunnels open new
    // streams on new channels, under the new chain).
    std::function<void()> retire{};
};

// One reading of a command's config file.
struct ServiceSetup {
    std::shared_ptr<const CommonConfig> config;  // the GateConfig or TunnelConfig itself
    std::string far_label;                       // "backend", "server"
    Endpoint far;                                // where connections are forwarded
    std::optional<std::string> user;             // drop to this user once bound
    std::chrono::milliseconds grace{10000};
    std::vector<std::string> proxy_protocol_from;  // trusted PROXY v2 in (gate)
    bool proxy_protocol_optional_from_others = false;
    std::function<Served(const ServiceContext&)> serve;
};

// Re-reads the config file for SIGHUP; throws ConfigError.
using SetupLoader = std::function<ServiceSetup()>;

// Ignores SIGPIPE; opens the audit log (exit 2 if it cannot or is refused,
// see AuditLog); binds config.listen or takes systemd's socket (exit 2
// unless TCP host:port, 4 if it cannot); binds metrics_listen (4); drops
// privileges (exit 2); prints "authchain NAME: listening on ADDR, LABEL FAR"
// and logs the start; warns loudly when a non-loopback listener has no
// ip_filter and no authenticating layer; prints and logs the skipped lines
// of the reloadable files (report_warnings); tells systemd READY=1; serves
// until SIGTERM/SIGINT (SIGHUP: reload with `reload`); logs the exit.
// Returns the exit code: 0, or 4 if accepting failed.
int run_service(std::string name, ServiceSetup first, SetupLoader reload);

// The audit line of one forwarded connection in the service's words: `self`
// is who closes at shutdown ("gate"), `far` the other side ("backend",
// "server"). Identity, layers and handshake are the client session's; the
// tunnel replaces them with what its client chain proved.
ConnectionAudit forward_audit(const Session& client, const ForwardSummary& summary, std::string_view self,
                              std::string_view far);

// What a forward tells the metrics when it is over (every outcome after the
// chain accepted; `far_failed`: the backend or server side failed).
void record_forward(Metrics& metrics, const ForwardSummary& summary);

// Adds "via": the balancer's address, when `client` came through one.
void add_via(nlohmann::json& line, const ServiceContext& service, const asio::ip::tcp::endpoint& client);

// Prints each skipped line of `file` ("file:line: why") on stderr as
// "authchain NAME: WARNING: ..." and, when `audit` is given, logs it as a
// "warning" event. Called at start, after each reload and by --check.
void report_warnings(std::string_view name, const Reloadable& file, AuditLog* audit);
// The same for every reloadable file of `config`.
void report_warnings(std::string_view name, const CommonConfig& config, AuditLog* audit);

// True when a gate/tunnel on `config.listen` is exposed beyond this host
// without an ip_filter or an authenticating layer (as `ssh -L` needs `-g`).
bool exposed_without_guard(const CommonConfig& config, bool server_side);

// Drops root to `user` (initgroups, setgid, setuid) and checks it cannot be
// regained. Throws std::runtime_error naming what failed. A process already
// running as that user is left as is.
void drop_privileges(const std::string& user);

}  // namespace authchain::tools
