#include "tools/log.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace authchain::tools {

namespace {

std::atomic<int> max_level{static_cast<int>(LogLevel::info)};

bool check_journal() {
    // systemd sets JOURNAL_STREAM=DEVICE:INODE of the stream it connected.
    const char* value = std::getenv("JOURNAL_STREAM");
    if (!value) return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0) return false;
    std::string expected = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
    return expected == value;
}

std::string_view label(LogLevel level) {
    switch (level) {
        case LogLevel::warning: return "WARNING: ";
        default: return "";
    }
}

}  // namespace

LogLevel parse_log_level(std::string_view text) {
    if (text == "error") return LogLevel::error;
    if (text == "warning") return LogLevel::warning;
    if (text == "debug") return LogLevel::debug;
    return LogLevel::info;
}

void set_log_level(LogLevel level) { max_level = static_cast<int>(level); }

bool log_enabled(LogLevel level) { return static_cast<int>(level) <= max_level.load(); }

bool stderr_is_journal() {
    static const bool journal = check_journal();
    return journal;
}

void log(LogLevel level, std::string_view name, std::string_view text) {
    if (!log_enabled(level)) return;
    std::string line;
    if (stderr_is_journal()) line = "<" + std::to_string(static_cast<int>(level)) + ">";
    line += "authchain ";
    line += name;
    line += ": ";
    line += label(level);
    line += text;
    line += "\n";
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace authchain::tools
