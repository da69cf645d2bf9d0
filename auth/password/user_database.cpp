// The user database's text: parsing (pure, fuzzed), weak-hash reports and
// the line edits `authchain passwd` makes.
#include <authchain/auth/password/user_database.hpp>

#include <algorithm>
#include <charconv>

#include <authchain/auth/openssh/key_lines.hpp>

namespace authchain::userdb {

namespace {

bool user_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
           c == '-' || c == '@' || c == '+';
}

bool base64_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

// Bytes that `n` unpadded base64 characters decode to, or nullopt for a
// length no encoder writes.
std::optional<std::size_t> base64_decoded_size(std::size_t n) {
    if (n % 4 == 1) return std::nullopt;
    return n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
}

std::optional<std::string_view> next_field(std::string_view& rest) {
    if (rest.empty() || rest.front() != '$') return std::nullopt;
    rest.remove_prefix(1);
    std::size_t end = rest.find('$');
    std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
    return field;
}

// "name=digits" with name as expected; a decimal without sign or leading zero.
std::optional<std::uint32_t> param(std::string_view text, std::string_view name) {
    if (!text.starts_with(name) || text.size() <= name.size() || text[name.size()] != '=') return std::nullopt;
    std::string_view digits = text.substr(name.size() + 1);
    if (digits.empty() || digits.size() > 10 || (digits.size() > 1 && digits.front() == '0')) return std::nullopt;
    std::uint32_t value = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return value;
}

std::optional<Argon2Params> parse_params(std::string_view text) {
    std::size_t c1 = text.find(','), c2 = c1 == std::string_view::npos ? c1 : text.find(',', c1 + 1);
    if (c2 == std::string_view::npos || text.find(',', c2 + 1) != std::string_view::npos) return std::nullopt;
    auto m = param(text.substr(0, c1), "m");
    auto t = param(text.substr(c1 + 1, c2 - c1 - 1), "t");
    auto p = param(text.substr(c2 + 1), "p");
    if (!m || !t || !p) return std::nullopt;
    return Argon2Params{*m, *t, *p};
}

std::string base64_error(std::string_view text, std::string_view what, std::size_t min, std::size_t max) {
    if (!std::all_of(text.begin(), text.end(), base64_char))
        return std::string(what) + " is not unpadded base64";
    auto n = base64_decoded_size(text.size());
    if (!n) return std::string(what) + " is not unpadded base64";
    if (*n < min || *n > max)
        return std::string(what) + " of " + std::to_string(*n) + " bytes (expected " + std::to_string(min) + ".." +
               std::to_string(max) + ")";
    return {};
}

std::optional<Argon2Params> refuse(std::string* why, std::string text) {
    if (why) *why = std::move(text);
    return std::nullopt;
}

// The user a line names ("alice" of "  alice:$argon2id..."), or "".
std::string_view user_of_line(std::string_view line) {
    line = openssh::trim_line(line);
    if (line.empty() || line.front() == '#') return {};
    return line.substr(0, line.find(':'));
}

// Calls `keep(line_with_terminator, user)` for each line of `text`.
template <class F>
void for_each_line(std::string_view text, F f) {
    while (!text.empty()) {
        std::size_t nl = text.find('\n');
        std::size_t len = nl == std::string_view::npos ? text.size() : nl + 1;
        std::string_view line = text.substr(0, len);
        f(line, user_of_line(line.substr(0, nl == std::string_view::npos ? len : nl)));
        text.remove_prefix(len);
    }
}

}  // namespace

std::string user_name_error(std::string_view user) {
    if (user.empty()) return "empty user name";
    if (user.size() > max_user_name)
        return "user name longer than " + std::to_string(max_user_name) + " bytes";
    if (!std::all_of(user.begin(), user.end(), user_char))
        return "user name with a character other than ASCII letters, digits and . _ - @ +";
    return {};
}

bool valid_user_name(std::string_view user) { return user_name_error(user).empty(); }

std::string to_string(const Argon2Params& p) {
    return "m=" + std::to_string(p.memory_kib) + " KiB, t=" + std::to_string(p.iterations) +
           ", p=" + std::to_string(p.parallelism);
}

bool weaker_than(const Argon2Params& params, const Argon2Params& minimum) {
    return params.memory_kib < minimum.memory_kib || params.iterations < minimum.iterations;
}

std::string params_error(const Argon2Params& p) {
    if (p.parallelism < 1 || p.parallelism > max_parallelism)
        return "p=" + std::to_string(p.parallelism) + " out of range 1.." + std::to_string(max_parallelism);
    if (p.iterations < 1 || p.iterations > max_iterations)
        return "t=" + std::to_string(p.iterations) + " out of range 1.." + std::to_string(max_iterations);
    if (p.memory_kib < 8 * p.parallelism || p.memory_kib > max_memory_kib)
        return "m=" + std::to_string(p.memory_kib) + " KiB out of range " + std::to_string(8 * p.parallelism) +
               ".." + std::to_string(max_memory_kib) + " (at least 8 KiB per lane)";
    return {};
}

std::optional<Argon2Params> parse_phc(std::string_view phc, std::string* why) {
    std::string_view rest = phc;
    auto algorithm = next_field(rest);
    if (!algorithm) return refuse(why, "not a PHC string (expected $argon2id$v=19$m=..,t=..,p=..$salt$hash)");
    if (*algorithm != "argon2id") return refuse(why, "algorithm \"" + std::string(algorithm->substr(0, 16)) +
                                                         "\" is not argon2id");
    auto version = next_field(rest);
    if (!version || *version != "v=19") return refuse(why, "Argon2 version is not v=19");
    auto params_text = next_field(rest);
    auto params = params_text ? parse_params(*params_text) : std::nullopt;
    if (!params) return refuse(why, "parameters are not \"m=<KiB>,t=<iterations>,p=<lanes>\"");
    if (auto e = params_error(*params); !e.empty()) return refuse(why, e);
    auto salt = next_field(rest);
    auto hash = next_field(rest);
    if (!salt || !hash || !rest.empty()) return refuse(why, "expected salt and hash after the parameters");
    if (auto e = base64_error(*salt, "salt", 8, 64); !e.empty()) return refuse(why, e);
    if (auto e = base64_error(*hash, "hash", 16, 64); !e.empty()) return refuse(why, e);
    return params;
}

const UserEntry* UserDatabase::find(std::string_view user) const {
    auto it = index.find(user);
    return it == index.end() ? nullptr : &entries[it->second];
}

UserDatabase parse_user_database(std::string_view text, std::string_view file_name) {
    UserDatabase db;
    db.warnings = openssh::parse_key_lines(
        text, file_name, max_user_line, max_users,
        [&](std::string_view line, const std::string& where) -> std::optional<std::string> {
            std::size_t colon = line.find(':');
            if (colon == std::string_view::npos) return "expected user:hash";
            std::string_view user = line.substr(0, colon), phc = line.substr(colon + 1);
            if (auto e = user_name_error(user); !e.empty()) return e;
            if (const UserEntry* first = db.find(user))
                return "user \"" + std::string(user) + "\" again (" + first->source + " is used)";
            std::string why;
            auto params = parse_phc(phc, &why);
            if (!params) return "user \"" + std::string(user) + "\": " + why;
            db.index.emplace(std::string(user), db.entries.size());
            db.entries.push_back({std::string(user), std::string(phc), *params, where});
            return std::nullopt;
        });
    return db;
}

std::vector<std::string> weak_hash_warnings(const UserDatabase& db, const Argon2Params& minimum) {
    std::vector<std::string> out;
    for (const auto& e : db.entries)
        if (weaker_than(e.params, minimum))
            out.push_back(e.source + ": user \"" + e.user + "\": " + to_string(e.params) +
                          " is weaker than the minimum m=" + std::to_string(minimum.memory_kib) +
                          " KiB, t=" + std::to_string(minimum.iterations) +
                          "; accepted, but set a new password (authchain passwd FILE add " + e.user + " --force)");
    return out;
}

std::string with_user(std::string_view text, std::string_view user, std::string_view phc) {
    std::string line = std::string(user) + ":" + std::string(phc);
    std::string out;
    bool done = false;
    for_each_line(text, [&](std::string_view original, std::string_view owner) {
        if (owner != user) {
            out += original;
            return;
        }
        if (done) return;  // a repeated line of the user (parse_user_database ignores it) goes
        out += line;
        out += original.ends_with('\n') ? "\n" : "";
        done = true;
    });
    if (!done) {
        if (!out.empty() && out.back() != '\n') out += '\n';
        out += line + "\n";
    }
    return out;
}

std::string without_user(std::string_view text, std::string_view user) {
    std::string out;
    for_each_line(text, [&](std::string_view original, std::string_view owner) {
        if (owner != user) out += original;
    });
    return out;
}

}  // namespace authchain::userdb
