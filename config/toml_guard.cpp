#include "config/toml_guard.hpp"

namespace authchain::config {

std::optional<std::size_t> non_ascii_outside_comments(std::string_view text) {
    enum class In { code, comment, basic, literal, multi_basic, multi_literal } in = In::code;
    std::size_t line = 1;
    bool escaped = false;  // the previous byte was a backslash in a basic string
    auto starts = [&](std::size_t i, std::string_view what) { return text.substr(i, what.size()) == what; };
    // The last byte of a closing delimiter at i: three quotes, and up to two
    // more that belong to the string (TOML: """a""""" is a + two quotes).
    auto close_quotes = [&](std::size_t i, char quote) {
        i += 2;
        for (int extra = 0; extra < 2 && i + 1 < text.size() && text[i + 1] == quote; ++extra) ++i;
        return i;
    };
    for (std::size_t i = 0; i < text.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(text[i]);
        if (c == '\n') ++line;
        if (c >= 0x80 && in != In::comment) return line;
        if (escaped) {
            escaped = false;
            continue;
        }
        switch (in) {
            case In::code:
                if (c == '#') in = In::comment;
                else if (starts(i, "\"\"\"")) in = In::multi_basic, i += 2;
                else if (starts(i, "'''")) in = In::multi_literal, i += 2;
                else if (c == '"') in = In::basic;
                else if (c == '\'') in = In::literal;
                break;
            case In::comment:
                if (c == '\n') in = In::code;
                break;
            case In::basic:
                if (c == '\\') escaped = true;
                else if (c == '"' || c == '\n') in = In::code;
                break;
            case In::literal:
                if (c == '\'' || c == '\n') in = In::code;
                break;
            case In::multi_basic:
                if (c == '\\') escaped = true;
                else if (starts(i, "\"\"\"")) in = In::code, i = close_quotes(i, '"');
                break;
            case In::multi_literal:
                if (starts(i, "'''")) in = In::code, i = close_quotes(i, '\'');
                break;
        }
    }
    return std::nullopt;
}

}  // namespace authchain::config
