#include "config/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include "auth/connection_limit.hpp"
#include "auth/failure_throttle.hpp"
#include "auth/ip_filter.hpp"
#include "compose/cidr.hpp"
#include "config/crypto_kinds.hpp"

namespace authchain::config {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds one_second{1000};
constexpr milliseconds one_week{7LL * 24 * 3600 * 1000};

std::vector<std::string> cidrs(TableReader& r, std::string_view key) {
    auto list = r.strings(key).value_or(std::vector<std::string>{});
    for (const auto& block : list) {
        try {
            (void)Cidr::parse(block);
        } catch (const std::invalid_argument& e) {
            r.fail(key, e.what());
        }
    }
    return list;
}

Layer build_ip_filter(TableReader& r, const LayerContext&) {
    IpFilterOptions options{.allow = cidrs(r, "allow"), .deny = cidrs(r, "deny")};
    if (options.allow.empty() && options.deny.empty())
        r.fail("ip_filter needs at least one of allow = [...] or deny = [...]");
    return sequential(ip_filter(std::move(options)));
}

Layer build_connection_limit(TableReader& r, const LayerContext&) {
    if (!r.has("max")) r.fail("max", "missing required key");
    auto max = r.integer("max", 1, 1'000'000);
    return sequential(connection_limit(static_cast<std::size_t>(*max)));
}

std::chrono::seconds whole_seconds(TableReader& r, std::string_view key, std::chrono::seconds fallback) {
    auto d = r.duration(key, one_second, one_week);
    if (!d) return fallback;
    if (d->count() % 1000 != 0) r.fail(key, "must be whole seconds");
    return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

Layer build_failure_throttle(TableReader& r, const LayerContext&) {
    FailureThrottleOptions o;
    if (auto v = r.integer("max_failures", 1, 1'000'000)) o.max_failures = static_cast<std::size_t>(*v);
    o.window = whole_seconds(r, "window", o.window);
    o.cooldown = whole_seconds(r, "cooldown", o.cooldown);
    if (auto v = r.integer("max_sources", 1, 10'000'000)) o.max_sources = static_cast<std::size_t>(*v);
    auto table = std::make_shared<FailureThrottle>(o);
    return Layer{.then = [table](Authenticator rest) { return failure_throttle(table, std::move(rest)); },
                 .reloadables = {}};
}

std::vector<LayerKind> make_kinds(Side side) {
    std::vector<LayerKind> kinds;
    if (side == Side::server) {
        kinds.push_back({"ip_filter", side, false, {"allow", "deny"}, build_ip_filter});
        kinds.push_back({"connection_limit", side, false, {"max"}, build_connection_limit});
        kinds.push_back({"failure_throttle", side, false, {"max_failures", "window", "cooldown", "max_sources"},
                         build_failure_throttle});
    }
    for (auto& k : crypto_layer_kinds(side)) kinds.push_back(std::move(k));
    return kinds;
}

}  // namespace

Layer sequential(Authenticator a) {
    return Layer{.then = [a = std::move(a)](Authenticator rest) { return a | std::move(rest); },
                 .reloadables = {}};
}

const std::vector<LayerKind>& layer_kinds(Side side) {
    static const std::vector<LayerKind> server = make_kinds(Side::server);
    static const std::vector<LayerKind> client = make_kinds(Side::client);
    return side == Side::server ? server : client;
}

std::string known_kinds(Side side) {
    std::string out;
    for (const auto& k : layer_kinds(side)) out += (out.empty() ? "" : ", ") + k.name;
    return out;
}

bool authenticates(std::string_view kind) {
    return kind == "public_key" || kind == "password" || kind == "psk" || kind == "tls";
}

bool chain_authenticates(const std::vector<std::string>& kinds) {
    return std::any_of(kinds.begin(), kinds.end(), [](const std::string& k) { return authenticates(k); });
}

Chain build_chain(const TableReader& top, const toml::array* layers, const LayerContext& context,
                  Authenticator tail) {
    Chain chain;
    std::vector<Layer> built;
    const auto& kinds = layer_kinds(context.side);
    std::size_t index = 0;
    if (layers) {
        for (const toml::node& node : *layers) {
            TableReader r = top.nested(*node.as_table(), "layer[" + std::to_string(index++) + "]");
            std::string kind = r.required_string("kind");
            auto it = std::find_if(kinds.begin(), kinds.end(), [&](const LayerKind& k) { return k.name == kind; });
            if (it == kinds.end())
                r.fail("kind", "unknown kind \"" + kind + "\" (known " +
                                   (context.side == Side::server ? "server" : "client") +
                                   " kinds: " + known_kinds(context.side) + ")");
            std::vector<std::string> known{"kind"};
            known.insert(known.end(), it->keys.begin(), it->keys.end());
            r.refuse_unknown(known);
            try {
                built.push_back(it->build(r, context));
            } catch (const ConfigError&) {
                throw;
            } catch (const std::exception& e) {
                r.fail(kind + ": " + e.what());
            }
            r.finish();
            chain.names.push_back(kind);
        }
    }
    // Assemble from the end, so a wrapping layer (failure_throttle) gets all that follows.
    Authenticator rest = tail ? std::move(tail) : pass();
    for (auto it = built.rbegin(); it != built.rend(); ++it) rest = it->then(std::move(rest));
    for (const auto& layer : built)
        chain.reloadables.insert(chain.reloadables.end(), layer.reloadables.begin(), layer.reloadables.end());
    chain.authenticator = std::move(rest);
    return chain;
}

}  // namespace authchain::config
