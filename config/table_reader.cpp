#include "config/table_reader.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <stdexcept>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/compose/text.hpp>
#include "config/values.hpp"

namespace authchain::config {
namespace {

std::uint32_t line_of(const toml::source_region& source) {
    return source.begin.line == 0 ? 1 : source.begin.line;
}

constexpr std::size_t max_secret = 1024;

}  // namespace

std::string type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

TableReader::TableReader(const toml::table& table, std::string file, std::string prefix,
                         std::filesystem::path base_dir)
    : table_(&table), file_(std::move(file)), prefix_(std::move(prefix)), base_dir_(std::move(base_dir)) {}

TableReader TableReader::nested(const toml::table& table, std::string prefix) const {
    return TableReader(table, file_, std::move(prefix), base_dir_);
}

std::uint32_t TableReader::line() const { return line_of(table_->source()); }

std::string TableReader::where() const {
    std::string out = file_ + ":" + std::to_string(line());
    if (!prefix_.empty()) out += ": " + prefix_;
    return out;
}

std::string TableReader::where(std::string_view key) const {
    std::uint32_t at = line();
    if (const toml::node* n = table_->get(key)) at = line_of(n->source());
    std::string name = prefix_.empty() ? std::string(key) : prefix_ + "." + std::string(key);
    return file_ + ":" + std::to_string(at) + ": " + name;
}

void TableReader::fail(std::string_view key, std::string_view message) const {
    throw ConfigError(where(key) + ": " + std::string(message));
}

void TableReader::fail(std::string_view message) const {
    throw ConfigError(where() + ": " + std::string(message));
}

void TableReader::ask(std::string_view key) const {
    if (declared_ && std::find(declared_->begin(), declared_->end(), key) == declared_->end())
        throw UndeclaredKey(where() + ": reads key \"" + std::string(key) + "\" that its table does not declare");
    asked_.emplace(key);
}

std::vector<std::string> TableReader::asked() const { return {asked_.begin(), asked_.end()}; }

bool TableReader::has(std::string_view key) const {
    ask(key);
    return table_->contains(key);
}

const toml::node* TableReader::node(std::string_view key) {
    ask(key);
    const toml::node* n = table_->get(key);
    if (n) consumed_.emplace(key);
    return n;
}

std::optional<std::string> TableReader::string(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_string()) fail(key, "expected a string, got " + type_name(*n));
    return n->as_string()->get();
}

std::string TableReader::required_string(std::string_view key) {
    if (!has(key)) fail(key, "missing required key");
    return *string(key);
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min, std::int64_t max) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_integer()) fail(key, "expected an integer, got " + type_name(*n));
    std::int64_t v = n->as_integer()->get();
    if (v < min || v > max)
        fail(key, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                      std::to_string(v));
    return v;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_boolean()) fail(key, "expected true or false, got " + type_name(*n));
    return n->as_boolean()->get();
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    if (!n->is_array()) fail(key, "expected an array of strings, got " + type_name(*n));
    std::vector<std::string> out;
    for (const toml::node& item : *n->as_array()) {
        if (!item.is_string())
            fail(key, "expected an array of strings, found " + type_name(item) + " in it");
        out.push_back(item.as_string()->get());
    }
    return out;
}

std::optional<std::chrono::milliseconds> TableReader::duration(std::string_view key,
                                                               std::chrono::milliseconds min,
                                                               std::chrono::milliseconds max) {
    const toml::node* n = node(key);
    if (!n) return std::nullopt;
    std::chrono::milliseconds value{};
    if (n->is_integer()) {
        std::int64_t s = n->as_integer()->get();
        if (s < 0 || s > max.count() / 1000 + 1) fail(key, "duration out of range");
        value = std::chrono::seconds(s);
    } else if (n->is_string()) {
        try {
            value = parse_duration(n->as_string()->get());
        } catch (const std::invalid_argument& e) {
            fail(key, e.what());
        }
    } else {
        fail(key, "expected a duration (\"10s\", \"500ms\" or integer seconds), got " + type_name(*n));
    }
    if (value < min || value > max)
        fail(key, "duration must be between " + std::to_string(min.count()) + "ms and " +
                      std::to_string(max.count()) + "ms");
    return value;
}

std::filesystem::path TableReader::resolve(const std::string& text) const {
    std::filesystem::path p(text);
    return p.is_absolute() ? p : base_dir_ / p;
}

std::optional<std::filesystem::path> TableReader::path(std::string_view key) {
    auto text = string(key);
    if (!text) return std::nullopt;
    if (text->empty()) fail(key, "empty path");
    if (text->find('\0') != std::string::npos) fail(key, "NUL in path");
    return resolve(*text);
}

std::optional<std::filesystem::path> TableReader::file(std::string_view key) {
    auto p = path(key);
    if (!p) return std::nullopt;
    std::error_code ec;
    auto status = std::filesystem::status(*p, ec);
    if (ec || !std::filesystem::exists(status)) fail(key, "file not found: " + p->string());
    if (!std::filesystem::is_regular_file(status)) fail(key, "not a regular file: " + p->string());
    return p;
}

std::filesystem::path TableReader::required_file(std::string_view key) {
    if (!has(key)) fail(key, "missing required key");
    return *file(key);
}

std::optional<std::filesystem::path> TableReader::secret_file(std::string_view key) {
    auto p = file(key);
    if (!p) return std::nullopt;
    try {
        openssh::check_file_mode(*p, /*is_private=*/true);
    } catch (const std::runtime_error& e) {
        fail(key, e.what());
    }
    struct stat st {};
    if (::stat(p->c_str(), &st) != 0) fail(key, "cannot stat " + p->string());
    if (st.st_size > static_cast<off_t>(max_secret)) fail(key, "secret file larger than 1 KiB: " + p->string());
    return p;
}

const toml::array* TableReader::tables(std::string_view key) {
    const toml::node* n = node(key);
    if (!n) return nullptr;
    const toml::array* a = n->as_array();
    if (!a || !a->is_array_of_tables())
        fail(key, "expected an array of tables ([[" + std::string(key) + "]]), got " + type_name(*n));
    return a;
}

namespace {

// The first key of `table` (by line) for which `unexpected` holds, or nullptr.
template <class Pred>
const toml::key* first_key(const toml::table& table, Pred unexpected) {
    const toml::key* first = nullptr;
    for (auto&& [k, v] : table)
        if (unexpected(k.str()) && (!first || line_of(k.source()) < line_of(first->source()))) first = &k;
    return first;
}

}  // namespace

void TableReader::finish() const {
    const toml::key* k = first_key(*table_, [&](std::string_view key) { return !consumed_.contains(key); });
    if (!k) return;
    if (declared_) throw UndeclaredKey(where(k->str()) + ": declared key was never read");
    throw ConfigError(where(k->str()) + ": unknown key");
}

void TableReader::declare(std::vector<std::string> known) {
    const toml::key* k = first_key(*table_, [&](std::string_view key) {
        return std::find(known.begin(), known.end(), key) == known.end();
    });
    if (k) throw ConfigError(where(k->str()) + ": unknown key (known here: " + join(known, ", ") + ")");
    declared_ = std::move(known);
}

}  // namespace authchain::config
