// The human log of `authchain gate` and `tunnel`: one line per message on
// stderr, "authchain NAME: [WARNING: |ERROR: ]text", filtered by log_level.
//
// Under systemd (stderr is the journal: JOURNAL_STREAM names the very
// descriptor, as sd-daemon(3) documents) each line starts with the
// sd-daemon priority prefix "<N>" so the journal records its level
// (3 error, 4 warning, 6 info, 7 debug).
#pragma once

#include <string>
#include <string_view>

namespace authchain::tools {

enum class LogLevel { error = 3, warning = 4, info = 6, debug = 7 };

// "error", "warning", "info", "debug" (config/config.cpp checked the spelling).
LogLevel parse_log_level(std::string_view text);

// The most verbose level printed (default info); thread-safe.
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

// Writes one line (a single write(2)) if `level` is enabled.
void log(LogLevel level, std::string_view name, std::string_view text);

// True when stderr is connected to the journal (JOURNAL_STREAM matches it).
bool stderr_is_journal();

}  // namespace authchain::tools
