// TableReader: strict, typed reading of one TOML table of a config file.
//
// The keys a table may hold are declared once (declare()): any other key is
// refused before anything is read, listing the declared ones, and reading a
// key that was not declared is a bug in the caller (UndeclaredKey). Every
// getter marks its key as consumed; finish() then refuses any key nobody
// read. Every error is a ConfigError naming the file, the line and the key:
// "gate.toml:12: layer[2].max: expected an integer, got a string".
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace authchain::config {

// A reader was asked for a key its table did not declare, or a declared key
// that was present was never read: a bug in the code reading the table (a
// layer kind's build), not in the config file.
struct UndeclaredKey : std::logic_error {
    using std::logic_error::logic_error;
};

class TableReader {
public:
    // `file`: the config file as the user named it (for messages);
    // `prefix`: where the table sits ("" for the top level, "layer[2]");
    // `base_dir`: what relative paths resolve against.
    TableReader(const toml::table& table, std::string file, std::string prefix,
                std::filesystem::path base_dir);

    // A reader for a table nested in this file ("allow[0]").
    TableReader nested(const toml::table& table, std::string prefix) const;

    bool has(std::string_view key) const;
    // The raw node (consumed), or nullptr when absent.
    const toml::node* node(std::string_view key);

    std::optional<std::string> string(std::string_view key);
    std::string required_string(std::string_view key);
    std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
    std::optional<bool> boolean(std::string_view key);
    std::optional<std::vector<std::string>> strings(std::string_view key);
    // "500ms", "10s", "5m", "2h", or a TOML integer of seconds; within [min, max].
    std::optional<std::chrono::milliseconds> duration(std::string_view key,
                                                      std::chrono::milliseconds min,
                                                      std::chrono::milliseconds max);
    // A path, resolved against base_dir; not checked.
    std::optional<std::filesystem::path> path(std::string_view key);
    // A path that must name an existing regular file (checked now).
    std::optional<std::filesystem::path> file(std::string_view key);
    std::filesystem::path required_file(std::string_view key);
    // A small secret file (a passphrase): checked now (at most 1 KiB, not
    // accessible to group or others), read by its user only when needed
    // (openssh::Passphrase::from_file), so no secret lives in the config.
    std::optional<std::filesystem::path> secret_file(std::string_view key);
    // An array of tables ([[layer]]); nullptr when absent.
    const toml::array* tables(std::string_view key);

    // The keys this table may hold. Throws ConfigError, before anything is
    // read, for the first key (by line) not in `known`, listing the known
    // ones; from then on asking for a key not in `known` throws UndeclaredKey.
    void declare(std::vector<std::string> known);
    // Throws when a present key was never consumed, naming the first (by
    // line): ConfigError "unknown key" for an undeclared table, UndeclaredKey
    // for a declared key nobody read.
    void finish() const;
    // Every key asked for so far (has() or a getter), present or not, sorted.
    std::vector<std::string> asked() const;

    // "gate.toml:12: layer[2].max" for `key`; the table's own line when absent.
    std::string where(std::string_view key) const;
    // "gate.toml:12: layer[2]" (the table itself).
    std::string where() const;
    [[noreturn]] void fail(std::string_view key, std::string_view message) const;
    [[noreturn]] void fail(std::string_view message) const;

    const std::string& file_label() const { return file_; }
    const std::string& prefix() const { return prefix_; }
    const std::filesystem::path& base_dir() const { return base_dir_; }
    std::uint32_t line() const;

private:
    std::filesystem::path resolve(const std::string& text) const;
    void ask(std::string_view key) const;

    const toml::table* table_;
    std::string file_;
    std::string prefix_;
    std::filesystem::path base_dir_;
    std::set<std::string, std::less<>> consumed_;
    std::optional<std::vector<std::string>> declared_;
    mutable std::set<std::string, std::less<>> asked_;
};

// The TOML type of `node` in words: "a string", "an integer", ...
std::string type_name(const toml::node& node);

}  // namespace authchain::config
