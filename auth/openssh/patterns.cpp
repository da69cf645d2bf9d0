#include <authchain/auth/openssh/patterns.hpp>

#include <stdexcept>

#include <authchain/compose/cidr.hpp>
#include <authchain/compose/text.hpp>

namespace authchain::openssh {

namespace {

// OpenSSH copies each sub-pattern into a 1024-byte buffer.
constexpr std::size_t max_subpattern = 1023;

// Calls f(entry, negated) for each comma-separated entry; stops when f
// returns false. As OpenSSH: match_pattern_list ignores a trailing empty
// entry (and sees none in an empty list), addr_match_list (strsep) does not.
template <class F>
void for_each_entry(std::string_view list, bool trailing_empty, F f) {
    std::size_t i = 0;
    while (trailing_empty ? i <= list.size() : i < list.size()) {
        std::size_t comma = list.find(',', i);
        if (comma == std::string_view::npos) comma = list.size();
        std::string_view entry = list.substr(i, comma - i);
        bool negated = !entry.empty() && entry.front() == '!';
        if (negated) entry.remove_prefix(1);
        if (!f(entry, negated)) return;
        i = comma + 1;
    }
}

enum class CidrParse { cidr, not_cidr, invalid };

// OpenSSH addr_pton_cidr: is `entry` an address[/prefix], something else
// (a wildcard pattern), or an inconsistent block?
CidrParse classify(std::string_view entry, std::optional<Cidr>& out) {
    if (entry.size() >= 64) return CidrParse::not_cidr;
    auto slash = entry.find('/');
    std::string address_text(entry.substr(0, slash));
    std::error_code ec;
    (void)asio::ip::make_address(address_text, ec);
    if (ec || address_text.empty()) return CidrParse::not_cidr;
    if (slash != std::string_view::npos) {
        auto mask = entry.substr(slash + 1);
        if (mask.empty() || mask.size() > 3) return CidrParse::not_cidr;
        unsigned value = 0;
        for (char c : mask) {
            if (c < '0' || c > '9') return CidrParse::not_cidr;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        if (value > 128) return CidrParse::not_cidr;
    }
    try {
        out = Cidr::parse(entry);
        return CidrParse::cidr;
    } catch (const std::invalid_argument&) {
        return CidrParse::invalid;  // prefix too long for the family, or host bits set
    }
}

// addr_match_list; `address` may be null to check the list only.
AddressListMatch address_list(const asio::ip::address* address, std::string_view list,
                              std::string* why) {
    std::string text = address ? normalize(*address).to_string() : std::string();
    AddressListMatch result = AddressListMatch::none;
    for_each_entry(list, true, [&](std::string_view entry, bool negated) {
        if (entry.empty()) {
            if (why) *why = "empty entry in address list";
            result = AddressListMatch::invalid;
            return false;
        }
        std::optional<Cidr> cidr;
        bool found = false;
        switch (classify(entry, cidr)) {
            case CidrParse::invalid:
                if (why) *why = "inconsistent address block \"" + std::string(entry) + "\"";
                result = AddressListMatch::invalid;
                return false;
            case CidrParse::cidr:
                found = address && cidr->contains(*address);
                break;
            case CidrParse::not_cidr:
                found = address && match_pattern(text, entry);
                break;
        }
        if (!found) return true;
        if (negated) {
            result = AddressListMatch::negated;
            return false;
        }
        result = AddressListMatch::positive;
        return true;
    });
    return result;
}

}  // namespace

bool match_pattern(std::string_view text, std::string_view pattern) {
    // Greedy matching with one backtrack point (the last `*`), equivalent
    // to OpenSSH's recursive match_pattern without its exponential worst case.
    std::size_t t = 0, p = 0;
    std::size_t star = std::string_view::npos, star_text = 0;
    while (t < text.size()) {
        if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == text[t])) {
            ++t;
            ++p;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            star_text = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++star_text;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') ++p;
    return p == pattern.size();
}

ListMatch match_pattern_list(std::string_view text, std::string_view list, bool lowercase) {
    bool positive = false;
    bool too_long = false;
    bool negative = false;
    for_each_entry(list, false, [&](std::string_view entry, bool negated) {
        if (entry.size() >= max_subpattern) {
            too_long = true;
            return false;
        }
        bool hit = lowercase ? match_pattern(text, ascii_lowered(entry)) : match_pattern(text, entry);
        if (!hit) return true;
        if (negated) {
            negative = true;
            return false;
        }
        positive = true;
        return true;
    });
    if (negative) return ListMatch::negated;
    if (too_long) return ListMatch::none;
    return positive ? ListMatch::positive : ListMatch::none;
}

ListMatch match_hostname(std::string_view host, std::string_view list) {
    return match_pattern_list(ascii_lowered(host), list, true);
}

AddressListMatch match_address_list(const asio::ip::address& address, std::string_view list) {
    return address_list(&address, list, nullptr);
}

std::optional<std::string> address_list_error(std::string_view list) {
    std::string why;
    if (address_list(nullptr, list, &why) == AddressListMatch::invalid) return why;
    return std::nullopt;
}

bool match_from(const asio::ip::address& peer, std::string_view list) {
    AddressListMatch by_address = match_address_list(peer, list);
    if (by_address == AddressListMatch::invalid || by_address == AddressListMatch::negated) return false;
    ListMatch by_name = match_hostname(normalize(peer).to_string(), list);
    if (by_name == ListMatch::negated) return false;
    return by_name == ListMatch::positive || by_address == AddressListMatch::positive;
}

}  // namespace authchain::openssh
