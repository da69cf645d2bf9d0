// The any_of kind, server and client side (compose/any_of.hpp): its methods
// are [[layer.method]] tables, each built as a layer of its own kind; the
// kind's name is the method's name on the wire.
#include <algorithm>

#include <authchain/compose/any_of.hpp>
#include "config/kinds.hpp"

namespace authchain::config {
namespace {

BuiltLayer build_any_of(TableReader& r, const LayerContext& context) {
    AnyOfOptions options;
    if (auto n = r.integer("max_attempts", 1, 16)) options.max_attempts = static_cast<std::size_t>(*n);
    // Under a failure_throttle, each failed method counts as a failure of
    // its own, and a source that becomes blocked is refused at once.
    if (std::shared_ptr<FailureThrottle> throttle = *context.failure_throttle; throttle && context.side == Side::server)
        options.on_failed_attempt = [throttle](const Credentials& c, const AuthenticationError&) {
            if (!c.peer) return;
            const auto address = c.peer->address();
            throttle->record_failure(address);
            if (throttle->blocked(address))
                deny(DenyReason::host_blocked, "failure_throttle: " + address.to_string() +
                                                   " blocked after failed any_of methods");
        };
    if (!r.has("method")) r.fail("method", "give at least one [[layer.method]] table");
    std::vector<BuiltLayer> built = context.nested_layers(r, "method");
    if (built.empty()) r.fail("method", "give at least one [[layer.method]] table");
    std::vector<Method> methods;
    std::vector<std::shared_ptr<Reloadable>> reloadables;
    for (BuiltLayer& layer : built) {
        if (std::any_of(methods.begin(), methods.end(), [&](const Method& m) { return m.name == layer.kind; }))
            r.fail("method", "method kind \"" + layer.kind + "\" given twice (a method is named by its kind)");
        methods.push_back({layer.kind, layer.wrapper(pass())});
        reloadables.insert(reloadables.end(), layer.reloadables.begin(), layer.reloadables.end());
    }
    BuiltLayer out = before_rest(context.side == Side::server ? any_of(std::move(methods), std::move(options))
                                                              : client::any_of(std::move(methods), std::move(options)));
    out.reloadables = std::move(reloadables);
    return out;
}

}  // namespace

void add_any_of_kinds(Registry& registry) {
    for (Side side : {Side::server, Side::client})
        registry.add({.name = "any_of", .side = side, .keys = {"max_attempts", "method"}, .authenticates = true,
                      .build = build_any_of});
}

}  // namespace authchain::config
