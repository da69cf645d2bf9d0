// The layer registry: every [[layer]] kind, once. A kind declares its keys,
// whether it authenticates the peer, and how it builds; build_chain only
// looks kinds up, so a new kind is a new LayerKind added to the registry:
//
//     void add_password_kinds(Registry& registry) {
//         registry.add({.name = "password", .side = Side::server, .keys = {"users"},
//                       .authenticates = true,
//                       .build = [](TableReader& r, const LayerContext&) {
//                           return before_rest(password(r.required_file("users")));
//                       }});
//     }
//
// and one line in built_in_registry() (registry.cpp). Kinds (docs/config.md
// has every key):
//   server: ip_filter, connection_limit, failure_throttle (access_kinds.cpp),
//           secure_channel, public_key (crypto_kinds.cpp)
//   client: secure_channel, public_key (crypto_kinds.cpp)
//   both:   resumption (resumption_kinds.cpp)
//   both:   password (password_kinds.cpp), psk (psk_kinds.cpp),
//           tls (tls_kinds.cpp), any_of (any_of_kinds.cpp)
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <authchain/auth/failure_throttle.hpp>
#include <authchain/compose/wrapper.hpp>
#include "config/config.hpp"
#include "config/table_reader.hpp"

namespace authchain::config {

enum class Side { server, client };

// "server" or "client".
std::string_view to_string(Side side);

class Registry;

// One layer table built: a Wrapper around the rest of the chain.
struct BuiltLayer {
    std::string kind;  // filled in by build_layer
    Wrapper wrapper;
    std::vector<std::shared_ptr<Reloadable>> reloadables;
};

// An ordinary authenticator as a layer: `a`, then the rest (a | identity()).
BuiltLayer before_rest(Authenticator a);
// A wrapper as a layer: it wraps all the layers after it (failure_throttle).
BuiltLayer around_rest(Wrapper w);

// What a kind's build may need besides its own table.
struct LayerContext {
    Side side = Side::server;
    std::string server_host;  // client side: the host part of `server`
    std::uint16_t server_port = 0;
    std::optional<Endpoint> backend;  // server side: where the gate forwards (permitopen checks)
    const Registry* registry = nullptr;  // where kinds are looked up; null: built_in_registry()
    bool interactive = false;  // client side, probe: a layer may ask on the terminal (password)
    // Server side, while one chain is built: the FailureThrottle of a
    // failure_throttle layer, set by it for the layers after it that count
    // failures of their own (any_of: each failed method). Copies of the
    // context (nested layers) share the slot.
    std::shared_ptr<std::shared_ptr<FailureThrottle>> failure_throttle =
        std::make_shared<std::shared_ptr<FailureThrottle>>();

    const Registry& kinds() const;
    // For kinds that hold other layers (any_of's [[layer.method]]): builds
    // each table of the array `key` of `r` as a layer of its own kind, looked
    // up in the same registry and side, exactly as a [[layer]] is built;
    // messages name them "layer[2].method[0]". Empty when `key` is absent.
    // Throws ConfigError.
    std::vector<BuiltLayer> nested_layers(TableReader& r, std::string_view key) const;
};

struct LayerKind {
    std::string name;
    Side side = Side::server;
    // The keys of its table besides "kind", declared once: any other key is
    // refused before build runs (the message lists these), and build reading
    // a key not listed, or leaving a present one unread, is an UndeclaredKey.
    std::vector<std::string> keys;
    // Proves who the peer is (public_key, password, psk, tls): a gate with
    // no such layer forwards anyone, and says so.
    bool authenticates = false;
    // Gives the stream confidentiality and a channel id (secure_channel, tls).
    bool transport = false;
    // Stands in for the layers after it on a resumed connection
    // (resumption), so build_chain insists: a transport before it, only
    // layers that authenticate (and are no transport) after it, so one per
    // chain, never nested in any_of; and the tail ([[allow]]) runs after
    // it, whether it skipped those layers or not.
    bool stands_in_for_rest = false;
    // Builds the layer from its table.
    // May throw ConfigError, or any std::exception (then reported at the
    // table: "layer[2]: public_key: <what>").
    std::function<BuiltLayer(TableReader&, const LayerContext&)> build;
};

class Registry {
public:
    // Adds `kind`; throws std::logic_error when its side already has that name.
    Registry& add(LayerKind kind);
    // The kind `name` of `side`, or nullptr.
    const LayerKind* find(Side side, std::string_view name) const;
    // The kinds of `side` in the order they were added (documentation order).
    std::vector<const LayerKind*> kinds(Side side) const;
    // "ip_filter, connection_limit, ..." for messages.
    std::string known_kinds(Side side) const;
    // True when any of `kinds` (names of `side`) authenticates the peer.
    bool chain_authenticates(const std::vector<std::string>& kinds, Side side) const;

private:
    std::vector<LayerKind> kinds_;
};

// The kinds authchain ships, both sides.
const Registry& built_in_registry();

// built_in_registry().known_kinds(side).
std::string known_kinds(Side side);
// True when any of the gate's layer `kinds` authenticates the peer: a gate
// without one forwards anyone.
bool chain_authenticates(const std::vector<std::string>& kinds, Side side = Side::server);

// Builds the one layer table `r`: reads `kind`, looks it up in
// context.kinds(), declares its keys on `r`, runs its build and checks that
// every key was read. Throws ConfigError naming r.prefix() and the key.
BuiltLayer build_layer(TableReader& r, const LayerContext& context);

struct Chain {
    Authenticator authenticator;  // the tail, or pass(), when there are no layers
    std::vector<std::string> names;
    std::vector<std::shared_ptr<Reloadable>> reloadables;
};

// Builds the chain from the [[layer]] tables of `layers` (may be null: no
// layers) in order: each layer's Wrapper folded with `|`, applied to `tail`
// (optional), so a wrapping layer (failure_throttle) gets all that follows
// it, tail included; but a layer that stands in for the rest (resumption)
// wraps only the layers after it, and the tail runs after it.
// `top` supplies the file name and base directory.
// Throws ConfigError naming "layer[i]" and the key.
Chain build_chain(const TableReader& top, const toml::array* layers, const LayerContext& context,
                  Authenticator tail = {});

}  // namespace authchain::config
