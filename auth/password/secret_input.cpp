#include <authchain/auth/password/secret_input.hpp>

#include <botan/mem_ops.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <stdexcept>
#include <string>

namespace authchain::userdb {

namespace {

void write_text(int fd, std::string_view text) {
    while (!text.empty()) {
        ssize_t n = ::write(fd, text.data(), text.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;  // a prompt that cannot be shown does not stop the read
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Echo off for its life, on a terminal.
class NoEcho {
public:
    explicit NoEcho(int fd) : fd_(fd) {
        if (::tcgetattr(fd_, &saved_) != 0) return;
        termios quiet = saved_;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHOE | ECHOK);
        quiet.c_lflag |= ECHONL;  // the newline still shows
        active_ = ::tcsetattr(fd_, TCSAFLUSH, &quiet) == 0;
    }
    ~NoEcho() {
        if (active_) ::tcsetattr(fd_, TCSAFLUSH, &saved_);
    }
    NoEcho(const NoEcho&) = delete;
    NoEcho& operator=(const NoEcho&) = delete;
    bool active() const { return active_; }

private:
    int fd_;
    termios saved_{};
    bool active_ = false;
};

}  // namespace

bool is_terminal(int fd) { return ::isatty(fd) == 1; }

std::optional<Secret> read_secret_line(int fd, std::string_view prompt, int prompt_fd) {
    std::optional<NoEcho> no_echo;
    if (is_terminal(fd)) {
        no_echo.emplace(fd);  // first (as readpassphrase): nothing typed after the prompt shows
        write_text(prompt_fd, prompt);
    }
    Secret line;
    line.reserve(max_password + 2);  // no reallocation: no unwiped copy left behind
    bool any = false;
    for (;;) {
        char c = 0;
        ssize_t n = ::read(fd, &c, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::runtime_error(std::string("cannot read the password: ") + std::generic_category().message(errno));
        if (n == 0) break;
        any = true;
        if (c == '\n') break;
        if (line.size() > max_password) {  // one byte past the bound: room for a final '\r'
            Botan::secure_scrub_memory(&c, 1);
            throw std::runtime_error("password longer than " + std::to_string(max_password) + " bytes");
        }
        line.push_back(c);
        Botan::secure_scrub_memory(&c, 1);
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > max_password)
        throw std::runtime_error("password longer than " + std::to_string(max_password) + " bytes");
    if (!any) return std::nullopt;
    return line;
}

}  // namespace authchain::userdb
