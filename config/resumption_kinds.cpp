// The resumption kind, server and client side: a wrapper around the layers
// after it (auth/resumption.hpp).
#include <authchain/auth/resumption.hpp>
#include "config/kinds.hpp"

namespace authchain::config {
namespace {

BuiltLayer build_resumption_server(TableReader& r, const LayerContext&) {
    ResumptionOptions options;
    if (auto d = r.duration("lifetime", std::chrono::seconds(1), resumption_max_lifetime)) {
        if (d->count() % 1000 != 0) r.fail("lifetime", "must be whole seconds");
        options.lifetime = std::chrono::duration_cast<std::chrono::seconds>(*d);
    }
    if (auto n = r.integer("max_tickets", 1, 10'000'000)) options.max_tickets = static_cast<std::size_t>(*n);
    auto tickets = std::make_shared<ResumptionTickets>(std::move(options));
    BuiltLayer layer = around_rest(resumption(tickets));
    // SIGHUP forgets every ticket: whatever the reload changed (a key removed
    // from authorized_keys, a user from the password file) holds for every
    // connection after it, resumed or not.
    layer.reloadables.push_back(make_reloadable([tickets] { tickets->forget_all(); },
                                                [where = r.prefix()] { return where + " resumption: tickets (forgotten)"; }));
    return layer;
}

BuiltLayer build_resumption_client(TableReader& r, const LayerContext&) {
    client::ResumptionOptions options;
    if (auto n = r.integer("max_servers", 1, 1'000'000)) options.max_servers = static_cast<std::size_t>(*n);
    return around_rest(client::resumption(std::move(options)));
}

}  // namespace

void add_resumption_kinds(Registry& registry) {
    registry.add({.name = "resumption", .side = Side::server, .keys = {"lifetime", "max_tickets"},
                  .stands_in_for_rest = true, .build = build_resumption_server});
    registry.add({.name = "resumption", .side = Side::client, .keys = {"max_servers"},
                  .stands_in_for_rest = true, .build = build_resumption_client});
}

}  // namespace authchain::config
