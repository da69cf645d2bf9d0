// The layer kinds backed by keys and cryptography: secure_channel and
// public_key, server and client side. Part of the registry (layers.hpp).
#pragma once

#include <vector>

#include "config/registry.hpp"

namespace authchain::config {

// The crypto kinds for `side`: secure_channel, public_key.
std::vector<LayerKind> crypto_layer_kinds(Side side);

}  // namespace authchain::config
