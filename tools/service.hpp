// The process life of `authchain gate` and `authchain tunnel`, written once:
// audit log, listener, privilege drop, start and exit events, two threads on
// one io_context, and the signals.
//
//   SIGHUP          reload() every Reloadable; established connections stay.
//                   A failed reload keeps the old files; both are logged.
//   SIGTERM/SIGINT  stop accepting; live connections get `grace` to finish,
//                   then they are closed; the process exits 0.
//
// A command only says what it serves (tools/gate.cpp, tools/tunnel.cpp):
//
//     return run_service(spec, [&](const ServiceContext& c) {
//         return Served{config.chain, forward_to(config.backend, options, report)};
//     });
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "compose/server.hpp"
#include "config/config.hpp"
#include "relay/forward.hpp"
#include "tools/audit_log.hpp"

namespace authchain::tools {

// The command is built on the config wing: its types are the command's vocabulary.
using namespace authchain::config;

// What differs between the long-running commands.
struct ServiceSpec {
    std::string name;              // "gate", "tunnel": messages, the start event's "command"
    const CommonConfig& config;    // listen, audit_log, handshake_timeout, max_connections, reloadables
    std::string far_label;         // "backend", "server": the start line and the start event
    Endpoint far;                  // where connections are forwarded
    std::optional<std::string> user;  // drop to this user once bound
    std::chrono::milliseconds grace{10000};
};

// What the service gives the command to build its handler with.
struct ServiceContext {
    AuditLog& audit;
    std::shared_ptr<LiveForwards> live;  // closed after the grace period at shutdown
    asio::ip::tcp::endpoint listening;   // the bound address (the real port of "127.0.0.1:0")
};

// What the command serves. The server chain runs after
// connection_limit(max_connections) and under handshake_timeout; refused
// attempts are audited by the service, rate-limited per source and reason
// (tools/audit_throttle.hpp); the handler audits the rest, unlimited.
struct Served {
    Authenticator chain;
    Handler handler;
};

// Ignores SIGPIPE; opens the audit log (exit 2 if it cannot or is refused,
// see AuditLog); binds config.listen (exit 2 unless TCP host:port, 4 if it
// cannot); drops privileges (exit 2); prints
// "authchain NAME: listening on ADDR, LABEL FAR" and logs the start; prints
// and logs the skipped lines of the reloadable files (report_warnings); serves
// until SIGTERM/SIGINT; logs the exit. Returns the exit code: 0, or 4 if
// accepting failed.
int run_service(const ServiceSpec& spec, const std::function<Served(const ServiceContext&)>& serve);

// The audit line of one forwarded connection in the service's words: `self`
// is who closes at shutdown ("gate"), `far` the other side ("backend",
// "server"). Identity, layers and handshake are the client session's; the
// tunnel replaces them with what its client chain proved.
ConnectionAudit forward_audit(const Session& client, const ForwardSummary& summary, std::string_view self,
                              std::string_view far);

// Prints each skipped line of `file` ("file:line: why") on stderr as
// "authchain NAME: WARNING: ..." and, when `audit` is given, logs it as a
// "warning" event. Called at start, after each reload and by --check.
void report_warnings(std::string_view name, const Reloadable& file, AuditLog* audit);
// The same for every reloadable file of `config`.
void report_warnings(std::string_view name, const CommonConfig& config, AuditLog* audit);

// Drops root to `user` (initgroups, setgid, setuid) and checks it cannot be
// regained. Throws std::runtime_error naming what failed. A process already
// running as that user is left as is.
void drop_privileges(const std::string& user);

}  // namespace authchain::tools
