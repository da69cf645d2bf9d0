#include <authchain/auth/openssh/key_lines.hpp>

namespace authchain::openssh {

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> lines;
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        lines.push_back(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    return lines;
}

std::string_view trim_line(std::string_view s) {
    s = skip_blanks(s);
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string_view skip_blanks(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    return s;
}

std::string_view take_word(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && !is_blank(s[n])) ++n;
    std::string_view word = s.substr(0, n);
    s = skip_blanks(s.substr(n));
    return word;
}

std::optional<std::size_t> options_length(std::string_view s) {
    bool quoted = false;
    std::size_t i = 0;
    for (; i < s.size() && (quoted || !is_blank(s[i])); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '"')
            ++i;
        else if (s[i] == '"')
            quoted = !quoted;
    }
    if (quoted) return std::nullopt;
    return i;
}

}  // namespace authchain::openssh
