// The password kinds: the gate checks a user database, the tunnel and probe
// send a user name and password.
#include <cstdlib>
#include <cstring>
#include <memory>

#include <authchain/auth/password.hpp>
#include <authchain/auth/password/secret_input.hpp>
#include "config/kinds.hpp"

namespace authchain::config {
namespace {

BuiltLayer build_password_server(TableReader& r, const LayerContext&) {
    PasswordServerOptions options;
    options.users = r.required_file("users");
    if (auto m = r.integer("min_memory_kib", 8, userdb::max_memory_kib))
        options.minimum.memory_kib = static_cast<std::uint32_t>(*m);
    if (auto t = r.integer("min_iterations", 1, userdb::max_iterations))
        options.minimum.iterations = static_cast<std::uint32_t>(*t);
    if (auto n = r.integer("max_concurrent_checks", 1, 64)) options.max_concurrent_checks = static_cast<std::size_t>(*n);
    options.allow_plaintext = r.boolean("allow_plaintext").value_or(false);
    std::shared_ptr<PasswordUsers> users;
    try {
        users = std::make_shared<PasswordUsers>(std::move(options));
    } catch (const std::runtime_error& e) {
        r.fail("users", e.what());
    }
    BuiltLayer layer = before_rest(password(users));
    // SIGHUP re-reads the user database.
    layer.reloadables.push_back(make_reloadable(
        [users] { users->reload(); }, [users, where = r.prefix()] { return where + " " + users->name(); },
        [users, where = r.prefix()] {
            std::vector<std::string> out;
            if (users->options().allow_plaintext)
                out.push_back(where + ": allow_plaintext = true: passwords may cross the network in clear");
            auto file = users->warnings();
            out.insert(out.end(), file.begin(), file.end());
            return out;
        }));
    return layer;
}

bool env_name(std::string_view name) {
    if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
    for (char c : name)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

// The variable `name`, read at each use (it was checked to be set at load).
openssh::Passphrase from_environment(std::string name) {
    return openssh::Passphrase::from_source([name = std::move(name)]() -> std::optional<userdb::Secret> {
        // NOLINTNEXTLINE(concurrency-mt-unsafe): the process never calls setenv/putenv.
        const char* value = std::getenv(name.c_str());
        if (!value) return std::nullopt;
        return userdb::Secret(value, value + std::strlen(value));
    });
}

// probe on a terminal: asked now, before connecting (not under the
// handshake deadline), handed out once, then wiped.
openssh::Passphrase from_prompt(const std::string& prompt) {
    auto typed = userdb::read_secret_line(0, prompt);
    if (!typed) throw std::runtime_error("no password typed");
    auto held = std::make_shared<std::optional<userdb::Secret>>(std::move(typed));
    return openssh::Passphrase::from_source([held]() -> std::optional<userdb::Secret> {
        auto once = std::move(*held);
        held->reset();
        return once;
    });
}

BuiltLayer build_password_client(TableReader& r, const LayerContext& context) {
    client::PasswordClientOptions options;
    options.user = r.required_string("user");
    if (auto e = userdb::user_name_error(options.user); !e.empty()) r.fail("user", e);
    options.allow_unauthenticated_server = r.boolean("allow_unauthenticated_server").value_or(false);
    options.allow_plaintext = r.boolean("allow_plaintext").value_or(false);
    if (r.has("password_file") && r.has("password_env"))
        r.fail("password_env", "give either password_file or password_env, not both");
    if (auto secret = r.secret_file("password_file")) {
        options.password = openssh::Passphrase::from_file(*secret);  // read at each handshake
    } else if (auto name = r.string("password_env")) {
        if (!env_name(*name)) r.fail("password_env", "not an environment variable name: \"" + *name + "\"");
        // NOLINTNEXTLINE(concurrency-mt-unsafe): the process never calls setenv/putenv.
        if (!std::getenv(name->c_str())) r.fail("password_env", "environment variable " + *name + " is not set");
        options.password = from_environment(*name);
    } else if (context.interactive && userdb::is_terminal(0)) {
        options.password = from_prompt("Password for " + options.user + " at " + context.server_host + ":" +
                                       std::to_string(context.server_port) + ": ");
    } else {
        r.fail("password_file", std::string("missing: give password_file or password_env") +
                                    (context.interactive ? " (or run probe on a terminal to be asked)" : ""));
    }
    return before_rest(client::password(std::move(options)));
}

}  // namespace

void add_password_kinds(Registry& registry) {
    registry.add({.name = "password",
                  .side = Side::server,
                  .keys = {"users", "min_memory_kib", "min_iterations", "max_concurrent_checks", "allow_plaintext"},
                  .authenticates = true,
                  .build = build_password_server});
    registry.add({.name = "password",
                  .side = Side::client,
                  .keys = {"user", "password_file", "password_env", "allow_unauthenticated_server", "allow_plaintext"},
                  .authenticates = true,
                  .build = build_password_client});
}

}  // namespace authchain::config
