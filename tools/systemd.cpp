#include "tools/systemd.hpp"

#include <sys/socket.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <stdexcept>
#include <string>

namespace authchain::tools {

void notify(std::string_view state) {
    std::string text(state);
    (void)sd_notify(0, text.c_str());
}

int socket_from_systemd() {
    // 1: unset LISTEN_* so that a child process cannot take them for its own.
    int n = sd_listen_fds(1);
    if (n < 0) throw std::runtime_error("socket activation: " + std::string(strerror(-n)));
    if (n == 0)
        throw std::runtime_error("socket_activation = true but systemd passed no socket (LISTEN_FDS unset, "
                                 "or meant for another process)");
    if (n > 1) throw std::runtime_error("socket activation: expected one socket, systemd passed " + std::to_string(n));
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket_inet(fd, AF_UNSPEC, SOCK_STREAM, 1, 0) <= 0)
        throw std::runtime_error("socket activation: the socket passed is not a listening TCP socket "
                                 "(ListenStream= with an address and port)");
    return fd;
}

}  // namespace authchain::tools
