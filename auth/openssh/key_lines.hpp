// The shared shape of authorized_keys and known_hosts files: one entry per
// line, '#' comments and blank lines ignored, every line bounded in length,
// a cap on the number of entries. Pure; no I/O.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace authchain::openssh {

// The lines of `text`, split at '\n' (a final '\n' starts no empty line).
std::vector<std::string_view> lines_of(std::string_view text);

// Blank is space or tab, as OpenSSH's files use them.
inline bool is_blank(char c) { return c == ' ' || c == '\t'; }
// Without leading/trailing blanks (and a trailing '\r').
std::string_view trim_line(std::string_view line);
// Without leading blanks.
std::string_view skip_blanks(std::string_view s);
// Splits off the first run of non-blank characters and the blanks after it.
std::string_view take_word(std::string_view& s);
// OpenSSH sshkey_advance_past_options: the length of the options field at
// the start of `s`, which ends at the first blank outside double quotes (\"
// does not end a quote); nullopt when a quote is left open.
std::optional<std::size_t> options_length(std::string_view s);

// Calls `parse(line, where)` for each non-blank, non-comment line, trimmed;
// `where` is "file:line". `parse` adds its entry and returns nullopt, or
// returns why the line is skipped. Returns the warnings, each
// "file:line: why; line skipped" (or that the entry cap was reached).
template <class Parse>
std::vector<std::string> parse_key_lines(std::string_view text, std::string_view file_name,
                                         std::size_t max_line, std::size_t max_entries, Parse parse) {
    std::vector<std::string> warnings;
    std::size_t line_no = 0, entries = 0;
    for (std::string_view line : lines_of(text)) {
        ++line_no;
        std::string where = std::string(file_name) + ":" + std::to_string(line_no);
        if (line.size() > max_line) {
            warnings.push_back(where + ": line longer than " + std::to_string(max_line) + " bytes; line skipped");
            continue;
        }
        line = trim_line(line);
        if (line.empty() || line.front() == '#') continue;
        if (entries >= max_entries) {
            warnings.push_back(where + ": more than " + std::to_string(max_entries) +
                               " keys; the rest of the file is ignored");
            break;
        }
        if (std::optional<std::string> why = parse(line, where))
            warnings.push_back(where + ": " + *why + "; line skipped");
        else
            ++entries;
    }
    return warnings;
}

}  // namespace authchain::openssh
