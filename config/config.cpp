#include <algorithm>
#include "config/config.hpp"

#include <toml++/toml.h>

#include <authchain/auth/openssh/whole_file.hpp>
#include <authchain/compose/cidr.hpp>
#include <authchain/compose/combinators.hpp>
#include <authchain/relay/multiplex/frame.hpp>
#include "config/registry.hpp"
#include "config/table_reader.hpp"
#include "config/toml_guard.hpp"
#include "config/values.hpp"

namespace authchain::config {
namespace {

using std::chrono::milliseconds;
constexpr std::size_t max_config_size = 1 << 20;
constexpr milliseconds one_hour{3600 * 1000};

toml::table parse_toml(std::string_view text, const std::string& label) {
    if (auto line = non_ascii_outside_comments(text))
        throw ConfigError(label + ":" + std::to_string(*line) +
                          ": non-ASCII character outside a comment (write it as \\uXXXX in a \"string\")");
    try {
        return toml::parse(text, label);
    } catch (const toml::parse_error& e) {
        throw ConfigError(label + ":" + std::to_string(e.source().begin.line) + ": syntax error: " +
                          std::string(e.description()));
    }
}

std::string read_config(const std::filesystem::path& file) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(file, ec))
        throw ConfigError(file.string() + ": config file not found");
    std::string text;
    switch (openssh::read_file_bounded(file, max_config_size, text)) {
        case openssh::ReadStatus::ok: return text;
        case openssh::ReadStatus::too_large: throw ConfigError(file.string() + ": config file larger than 1 MiB");
        default: throw ConfigError(file.string() + ": cannot read config file");
    }
}

std::filesystem::path base_dir_of(const std::filesystem::path& file) {
    std::error_code ec;
    auto absolute = std::filesystem::absolute(file, ec);
    return (ec ? file : absolute).parent_path();
}

Endpoint endpoint(TableReader& r, std::string_view key, EndpointRole role) {
    std::string text = *r.string(key);
    Endpoint e;
    try {
        e = parse_endpoint(text, role);
    } catch (const std::invalid_argument& ex) {
        r.fail(key, ex.what());
    }
    if (e.is_unix() && e.unix_path.is_relative()) {
        e.unix_path = r.base_dir() / e.unix_path;
        if (e.unix_path.string().size() > 107)
            r.fail(key, "Unix socket path longer than 107 bytes once resolved: " + e.unix_path.string());
    }
    return e;
}

Endpoint required_endpoint(TableReader& r, std::string_view key, EndpointRole role) {
    if (!r.has(key)) r.fail(key, "missing required key");
    return endpoint(r, key, role);
}

// multiplex and its tuning keys, which mean nothing without it. The ranges
// are the wire format's (relay/multiplex/frame.hpp).
void read_multiplex(TableReader& r, CommonConfig& c) {
    if (auto b = r.boolean("multiplex")) c.multiplex = *b;
    if (auto n = r.integer("multiplex_max_streams", 1, mux::max_streams_limit)) {
        if (!c.multiplex) r.fail("multiplex_max_streams", "needs multiplex = true");
        c.multiplex_max_streams = static_cast<std::uint32_t>(*n);
    }
    if (auto n = r.integer("multiplex_window", mux::min_initial_window, mux::max_initial_window)) {
        if (!c.multiplex) r.fail("multiplex_window", "needs multiplex = true");
        c.multiplex_window = static_cast<std::uint32_t>(*n);
    }
}

// Keys every command shares, except listen (required or not) and the chain.
void read_common(TableReader& r, CommonConfig& c) {
    if (auto t = r.duration("handshake_timeout", milliseconds(1), one_hour)) c.handshake_timeout = *t;
    if (auto n = r.integer("max_connections", 1, 1'000'000)) c.max_connections = static_cast<std::size_t>(*n);
    if (auto n = r.integer("max_connections_per_source", 1, 1'000'000))
        c.max_connections_per_source = static_cast<std::size_t>(*n);
    if (auto log = r.string("audit_log")) {
        if (log->empty()) r.fail("audit_log", "empty path (leave the key out for no audit log)");
        if (*log == "-") {
            c.audit_log = "-";
        } else {
            auto p = *r.path("audit_log");
            std::error_code ec;
            if (!std::filesystem::is_directory(p.parent_path(), ec))
                r.fail("audit_log", "directory not found: " + p.parent_path().string());
            c.audit_log = p.string();
        }
    }
    if (auto level = r.string("log_level")) {
        if (*level != "error" && *level != "warning" && *level != "info" && *level != "debug")
            r.fail("log_level", "expected \"error\", \"warning\", \"info\" or \"debug\", got \"" + *level + "\"");
        c.log_level = *level;
    }
    if (r.has("metrics_listen")) {
        Endpoint m = endpoint(r, "metrics_listen", EndpointRole::listen);
        if (m.is_unix()) r.fail("metrics_listen", "must be a TCP \"host:port\"");
        c.metrics_listen = m;
    }
    if (auto t = r.duration("idle_timeout", milliseconds(0), 24 * one_hour)) c.idle_timeout = *t;
    if (auto t = r.duration("keepalive", milliseconds(0), 24 * one_hour)) {
        if (t->count() > 0 && t->count() < 1000) r.fail("keepalive", "at least \"1s\" (or \"0s\" for off)");
        c.keepalive = *t;
    }
    if (auto b = r.boolean("socket_activation")) c.socket_activation = *b;
    if (auto n = r.integer("threads", 1, 1024)) c.threads = static_cast<std::size_t>(*n);
    read_multiplex(r, c);
}

// The process keys both commands share (read by read_common).
const std::vector<std::string> common_keys{"log_level", "metrics_listen", "idle_timeout", "keepalive",
                                           "socket_activation", "threads", "multiplex",
                                           "multiplex_max_streams", "multiplex_window"};

void declare_with_common(TableReader& r, std::vector<std::string> keys) {
    keys.insert(keys.end(), common_keys.begin(), common_keys.end());
    r.declare(std::move(keys));
}

std::optional<std::string> nonempty(TableReader& r, std::string_view key) {
    auto s = r.string(key);
    if (s && s->empty()) r.fail(key, "empty string");
    return s;
}

std::vector<AllowRule> read_allow(TableReader& top, const toml::array* rules) {
    std::vector<AllowRule> out;
    if (!rules) return out;
    std::size_t index = 0;
    for (const toml::node& node : *rules) {
        TableReader r = top.nested(*node.as_table(), "allow[" + std::to_string(index++) + "]");
        r.declare({"key_fingerprint", "user", "cert_subject", "psk_id", "cert_san", "spki", "cert_key_id"});
        AllowRule rule;
        rule.key_fingerprint = nonempty(r, "key_fingerprint");
        rule.user = nonempty(r, "user");
        rule.cert_subject = nonempty(r, "cert_subject");
        rule.psk_id = nonempty(r, "psk_id");
        rule.cert_san = nonempty(r, "cert_san");
        rule.spki = nonempty(r, "spki");
        rule.cert_key_id = nonempty(r, "cert_key_id");
        r.finish();
        if (rule.spki && !rule.spki->starts_with("sha256//"))
            r.fail("spki", "expected \"sha256//BASE64\" as `authchain probe` prints cert_fingerprint");
        if (rule.key_fingerprint && !rule.key_fingerprint->starts_with("SHA256:"))
            r.fail("key_fingerprint", "expected \"SHA256:...\" as `authchain fingerprint` prints it");
        if (!rule.key_fingerprint && !rule.user && !rule.cert_subject && !rule.psk_id && !rule.cert_san && !rule.spki &&
            !rule.cert_key_id)
            r.fail("a rule needs key_fingerprint, user, cert_subject, psk_id, cert_san, spki or cert_key_id (an empty "
                   "rule would allow anyone)");
        out.push_back(std::move(rule));
    }
    return out;
}

Authenticator allow_check(std::vector<AllowRule> rules) {
    return check(
        [rules = std::move(rules)](const Credentials& c) {
            for (const auto& rule : rules)
                if (rule.matches(c)) return true;
            return false;
        },
        "allow");
}

void install_chain(CommonConfig& c, Chain chain) {
    c.chain = std::move(chain.authenticator);
    c.layer_names = std::move(chain.names);
    c.reloadables = std::move(chain.reloadables);
}

}  // namespace

bool AllowRule::matches(const Credentials& c) const {
    if (key_fingerprint && !(c.key_fingerprint == *key_fingerprint)) return false;
    if (user && !(c.user == *user)) return false;
    if (cert_subject && !(c.cert_subject == *cert_subject)) return false;
    if (psk_id && !(c.psk_id == *psk_id)) return false;
    if (cert_san && !(c.cert_san && std::find(c.cert_san->begin(), c.cert_san->end(), *cert_san) != c.cert_san->end()))
        return false;
    if (spki && !(c.cert_fingerprint == *spki)) return false;
    if (cert_key_id && !(c.cert_key_id == *cert_key_id)) return false;
    return key_fingerprint || user || cert_subject || psk_id || cert_san || spki || cert_key_id;
}

GateConfig parse_gate_config(std::string_view text, const std::filesystem::path& file) {
    GateConfig c;
    c.file = file;
    toml::table root = parse_toml(text, file.string());
    TableReader r(root, file.string(), "", base_dir_of(file));
    declare_with_common(r, {"listen", "backend", "handshake_timeout", "max_connections",
                            "max_connections_per_source", "audit_log", "proxy_protocol", "user", "grace",
                            "allow", "layer", "proxy_protocol_from", "proxy_protocol_optional_from_others"});
    bool activated = r.boolean("socket_activation").value_or(false);
    if (!activated || r.has("listen")) c.listen = required_endpoint(r, "listen", EndpointRole::listen);
    c.backend = required_endpoint(r, "backend", EndpointRole::backend);
    read_common(r, c);
    if (auto p = r.string("proxy_protocol")) {
        if (*p != "v2") r.fail("proxy_protocol", "only \"v2\" is supported, got \"" + *p + "\"");
        c.proxy_protocol = *p;
    }
    if (auto from = r.strings("proxy_protocol_from")) {
        for (const auto& cidr : *from) {
            try {
                Cidr::parse(cidr);
            } catch (const std::invalid_argument& e) {
                r.fail("proxy_protocol_from", e.what());
            }
        }
        if (from->empty()) r.fail("proxy_protocol_from", "empty list (leave the key out to turn it off)");
        c.proxy_protocol_from = *from;
    }
    if (auto b = r.boolean("proxy_protocol_optional_from_others")) {
        if (c.proxy_protocol_from.empty())
            r.fail("proxy_protocol_optional_from_others", "needs proxy_protocol_from");
        c.proxy_protocol_optional_from_others = *b;
    }
    c.user = nonempty(r, "user");
    if (auto g = r.duration("grace", milliseconds(0), one_hour)) c.grace = *g;
    c.allow = read_allow(r, r.tables("allow"));
    const toml::array* layers = r.tables("layer");
    r.finish();
    Authenticator tail = c.allow.empty() ? Authenticator{} : allow_check(c.allow);
    LayerContext context;
    context.side = Side::server;
    context.backend = c.backend;
    install_chain(c, build_chain(r, layers, context, std::move(tail)));
    return c;
}

TunnelConfig parse_tunnel_config(std::string_view text, const std::filesystem::path& file, TunnelCommand command) {
    TunnelConfig c;
    c.file = file;
    toml::table root = parse_toml(text, file.string());
    TableReader r(root, file.string(), "", base_dir_of(file));
    declare_with_common(r, {"listen", "server", "handshake_timeout", "max_connections",
                            "max_connections_per_source", "audit_log", "layer"});
    bool activated = r.boolean("socket_activation").value_or(false);
    if (command == TunnelCommand::tunnel && !activated && !r.has("listen"))
        r.fail("listen", "missing required key (only probe may leave it out)");
    if (r.has("listen")) c.listen = endpoint(r, "listen", EndpointRole::listen);
    c.server = required_endpoint(r, "server", EndpointRole::connect);
    read_common(r, c);
    // A tunnel's clients are local programs, all from one address: no share.
    if (c.max_connections_per_source == 0) c.max_connections_per_source = c.max_connections;
    const toml::array* layers = r.tables("layer");
    r.finish();
    LayerContext context{.side = Side::client, .server_host = c.server.host, .server_port = c.server.port};
    context.interactive = command == TunnelCommand::probe;
    install_chain(c, build_chain(r, layers, context));
    return c;
}

GateConfig load_gate_config(const std::filesystem::path& file) {
    return parse_gate_config(read_config(file), file);
}

TunnelConfig load_tunnel_config(const std::filesystem::path& file, TunnelCommand command) {
    return parse_tunnel_config(read_config(file), file, command);
}

namespace {
class ReloadableCalls final : public Reloadable {
public:
    ReloadableCalls(std::function<void()> reload, std::function<std::string()> name,
                    std::function<std::vector<std::string>()> warnings)
        : reload_(std::move(reload)), name_(std::move(name)), warnings_(std::move(warnings)) {}
    void reload() override { reload_(); }
    std::string name() const override { return name_(); }
    std::vector<std::string> warnings() const override { return warnings_ ? warnings_() : std::vector<std::string>{}; }

private:
    std::function<void()> reload_;
    std::function<std::string()> name_;
    std::function<std::vector<std::string>()> warnings_;
};
}  // namespace

std::shared_ptr<Reloadable> make_reloadable(std::function<void()> reload, std::function<std::string()> name,
                                            std::function<std::vector<std::string>()> warnings) {
    return std::make_shared<ReloadableCalls>(std::move(reload), std::move(name), std::move(warnings));
}

}  // namespace authchain::config
