// The layer registry: [[layer]] kind name -> factory building the server-side
// or client-side Authenticator from that table.
//
// Kinds (docs/config.md has every key):
//   server: ip_filter, connection_limit, failure_throttle, secure_channel, public_key
//   client: secure_channel, public_key
// failure_throttle wraps every layer after it (it must see their verdicts).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/table_reader.hpp"

namespace authchain::config {

enum class Side { server, client };

// What a factory may need besides its own table.
struct LayerContext {
    Side side = Side::server;
    std::string server_host;  // client side: the host part of `server`
    std::uint16_t server_port = 0;
};

// A built layer and how it joins the layers after it.
struct Layer {
    // This layer followed by `rest`: `layer | rest` for most kinds;
    // failure_throttle returns failure_throttle(options, rest).
    std::function<Authenticator(Authenticator rest)> then;
    std::vector<std::shared_ptr<Reloadable>> reloadables;
};

// The Layer of an ordinary authenticator: `a | rest`.
Layer sequential(Authenticator a);

struct LayerKind {
    std::string name;
    Side side;
    bool authenticates = false;  // proves who the peer is (public_key, ...)
    std::vector<std::string> keys;  // every key it reads ("kind" aside), for messages
    // Reads its keys from the reader (unread keys are refused afterwards).
    // May throw ConfigError, or any std::exception (reported at the table).
    std::function<Layer(TableReader&, const LayerContext&)> build;
};

// The built-in kinds for `side`, in documentation order.
const std::vector<LayerKind>& layer_kinds(Side side);
// "ip_filter, connection_limit, ..." for messages.
std::string known_kinds(Side side);

// True when `kind` proves the peer's identity (public_key, password, psk, tls).
bool authenticates(std::string_view kind);
// True when any of `kinds` does: a gate without one forwards anyone.
bool chain_authenticates(const std::vector<std::string>& kinds);

struct Chain {
    Authenticator authenticator;  // the tail, or pass(), when there are no layers
    std::vector<std::string> names;
    std::vector<std::shared_ptr<Reloadable>> reloadables;
};

// Builds the chain from the [[layer]] tables of `layers` (may be null: no
// layers) in order; `tail` (optional) runs last, inside any failure_throttle.
// `top` supplies the file name and base directory. Throws ConfigError naming
// "layer[i]" and the key.
Chain build_chain(const TableReader& top, const toml::array* layers, const LayerContext& context,
                  Authenticator tail = {});

}  // namespace authchain::config
