// The built-in layer kinds, by file; built_in_registry() (registry.cpp)
// adds them in documentation order. A new file of kinds adds one line here
// and one there.
#pragma once

#include "config/registry.hpp"

namespace authchain::config {

// ip_filter, connection_limit, failure_throttle (server side).
void add_access_kinds(Registry& registry);
// secure_channel and public_key, server and client side.
void add_crypto_kinds(Registry& registry);
// psk, server and client side.
void add_psk_kinds(Registry& registry);
// any_of (method alternatives), server and client side.
void add_any_of_kinds(Registry& registry);
// password, server and client side.
void add_password_kinds(Registry& registry);
// tls, server and client side.
void add_tls_kinds(Registry& registry);
// resumption, server and client side.
void add_resumption_kinds(Registry& registry);

}  // namespace authchain::config
