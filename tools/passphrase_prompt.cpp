#include "tools/passphrase_prompt.hpp"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <stdexcept>

namespace authchain::tools {

namespace {

constexpr std::size_t max_passphrase = 1024;

// Closes the terminal and restores its mode, whatever happens.
struct Terminal {
    int fd = -1;
    termios saved{};
    bool restore = false;
    ~Terminal() {
        if (restore) ::tcsetattr(fd, TCSAFLUSH, &saved);
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

Botan::secure_vector<char> prompt_passphrase(std::string_view prompt) {
    Terminal tty;
    tty.fd = ::open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (tty.fd < 0) throw std::runtime_error("no terminal to ask for a passphrase (use --passphrase-file)");
    if (::tcgetattr(tty.fd, &tty.saved) != 0) throw std::runtime_error("cannot read the terminal's mode");
    termios quiet = tty.saved;
    quiet.c_lflag &= static_cast<tcflag_t>(~(ECHO | ECHONL));
    if (::tcsetattr(tty.fd, TCSAFLUSH, &quiet) != 0) throw std::runtime_error("cannot turn terminal echo off");
    tty.restore = true;
    (void)!::write(tty.fd, prompt.data(), prompt.size());

    Botan::secure_vector<char> line;
    char c = 0;
    while (true) {
        ssize_t n = ::read(tty.fd, &c, 1);
        if (n <= 0 || c == '\n' || c == '\r') break;
        if (line.size() >= max_passphrase) throw std::runtime_error("passphrase too long");
        line.push_back(c);
    }
    c = 0;
    (void)!::write(tty.fd, "\n", 1);
    return line;
}

}  // namespace authchain::tools
