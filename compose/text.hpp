// Small text helpers shared by every folder (header-only).
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace authchain {

// The elements of `items` (anything a std::string can be appended from:
// std::string, std::string_view, const char*) with `separator` between
// them: join(std::vector<std::string>{"a", "b"}, ", ") == "a, b"; an empty
// range gives "". Every element is followed by a separator except the last,
// empty ones included. `project` picks what to join from each element:
//     join(kinds, ", ", &LayerKind::name)
// (not std::views::transform: clang 14 cannot build libstdc++ 12's views.)
template <class Range, class Project = std::identity>
std::string join(const Range& items, std::string_view separator, Project project = {}) {
    std::string out;
    bool first = true;
    for (const auto& item : items) {
        if (!first) out += separator;
        out += std::invoke(project, item);
        first = false;
    }
    return out;
}

// ASCII lower case, whatever the locale ('A'..'Z' only, as OpenSSH's
// lowercase() for host names and option names).
constexpr char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

inline std::string ascii_lowered(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = ascii_lower(c);
    return out;
}

// True if `s` starts with `prefix`, ASCII case ignored.
constexpr bool starts_with_nocase(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (ascii_lower(s[i]) != ascii_lower(prefix[i])) return false;
    return true;
}

}  // namespace authchain
