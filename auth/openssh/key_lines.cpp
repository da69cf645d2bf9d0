#include "auth/openssh/key_lines.hpp"

namespace authchain::openssh {

std::string_view trim_line(std::string_view s) {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string_view take_word(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && !is_blank(s[n])) ++n;
    std::string_view word = s.substr(0, n);
    s = s.substr(n);
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    return word;
}

}  // namespace authchain::openssh
