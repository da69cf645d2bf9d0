// The systemd protocols the service speaks (libsystemd, sd-daemon(3)):
// readiness notification (Type=notify) and socket activation (LISTEN_FDS).
// Both are systemd's own environment, set by the service manager for this
// process only; without them nothing happens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace authchain::tools {

// sd_notify(0, state), e.g. "READY=1", "RELOADING=1", "STOPPING=1",
// "STATUS=...": a no-op unless NOTIFY_SOCKET is set. Errors are ignored
// (the manager may be gone), as sd_notify's users do.
void notify(std::string_view state);

// With `socket_activation = true`: the one listening TCP socket systemd
// passed (sd_listen_fds, LISTEN_PID checked). Throws std::runtime_error
// saying what is wrong (none passed, more than one, not a listening TCP
// stream socket).
int socket_from_systemd();

}  // namespace authchain::tools
