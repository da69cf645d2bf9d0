// Small text helpers shared by every folder (header-only).
#pragma once

#include <ranges>
#include <string>
#include <string_view>

namespace authchain {

// The elements of `items` (anything a std::string can be appended from:
// std::string, std::string_view, const char*) with `separator` between
// them: join(std::vector<std::string>{"a", "b"}, ", ") == "a, b"; an empty
// range gives "". Every element is followed by a separator except the last,
// empty ones included.
template <std::ranges::input_range Range>
std::string join(const Range& items, std::string_view separator) {
    std::string out;
    bool first = true;
    for (const auto& item : items) {
        if (!first) out += separator;
        out += item;
        first = false;
    }
    return out;
}

}  // namespace authchain
