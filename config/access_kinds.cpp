// The kinds that decide on the address and the load before any
// cryptography: ip_filter, connection_limit, failure_throttle.
#include <authchain/auth/connection_limit.hpp>
#include <authchain/auth/failure_throttle.hpp>
#include <authchain/auth/ip_filter.hpp>
#include "config/kinds.hpp"

namespace authchain::config {
namespace {

using std::chrono::milliseconds;
constexpr milliseconds one_second{1000};
constexpr milliseconds one_week{7LL * 24 * 3600 * 1000};

// The CIDR rules are ip_filter's own: its error is reported at the key
// of the list that holds the bad block.
BuiltLayer build_ip_filter(TableReader& r, const LayerContext&) {
    IpFilterOptions options{.allow = r.strings("allow").value_or(std::vector<std::string>{}),
                            .deny = r.strings("deny").value_or(std::vector<std::string>{})};
    if (options.allow.empty() && options.deny.empty())
        r.fail("ip_filter needs at least one of allow = [...] or deny = [...]");
    try {
        return before_rest(ip_filter(std::move(options)));
    } catch (const IpFilterError& e) {
        r.fail(e.list, e.what());
    }
}

BuiltLayer build_connection_limit(TableReader& r, const LayerContext&) {
    if (!r.has("max")) r.fail("max", "missing required key");
    auto max = r.integer("max", 1, 1'000'000);
    auto per_source = r.integer("max_per_source", 1, 1'000'000).value_or(0);  // 0: max / 8
    return before_rest(connection_limit(static_cast<std::size_t>(*max), static_cast<std::size_t>(per_source)));
}

std::chrono::seconds whole_seconds(TableReader& r, std::string_view key, std::chrono::seconds fallback) {
    auto d = r.duration(key, one_second, one_week);
    if (!d) return fallback;
    if (d->count() % 1000 != 0) r.fail(key, "must be whole seconds");
    return std::chrono::duration_cast<std::chrono::seconds>(*d);
}

// A wrapper: it must see the verdicts of every layer after it.
BuiltLayer build_failure_throttle(TableReader& r, const LayerContext& context) {
    FailureThrottleOptions o;
    if (auto v = r.integer("max_failures", 1, 1'000'000)) o.max_failures = static_cast<std::size_t>(*v);
    o.window = whole_seconds(r, "window", o.window);
    o.cooldown = whole_seconds(r, "cooldown", o.cooldown);
    if (auto v = r.integer("max_sources", 1, 10'000'000)) o.max_sources = static_cast<std::size_t>(*v);
    auto throttle = std::make_shared<FailureThrottle>(o);
    *context.failure_throttle = throttle;  // for any_of after it: each failed method counts
    return around_rest(failure_throttle(std::move(throttle)));
}

}  // namespace

void add_access_kinds(Registry& registry) {
    registry.add({.name = "ip_filter", .side = Side::server, .keys = {"allow", "deny"}, .build = build_ip_filter});
    registry.add({.name = "connection_limit", .side = Side::server, .keys = {"max", "max_per_source"},
                  .build = build_connection_limit});
    registry.add({.name = "failure_throttle",
                  .side = Side::server,
                  .keys = {"max_failures", "window", "cooldown", "max_sources"},
                  .build = build_failure_throttle});
}

}  // namespace authchain::config
