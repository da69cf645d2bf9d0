// The psk kinds, server and client side (auth/psk.hpp).
#include <authchain/auth/psk.hpp>
#include "config/kinds.hpp"

namespace authchain::config {
namespace {

const std::string plaintext_warning =
    "allow_plaintext = true: on a stream that is not encrypted psk proves knowledge of the key and nothing "
    "more: the bytes after it are neither encrypted nor bound to the proof (put secure_channel before it)";

BuiltLayer build_psk_server(TableReader& r, const LayerContext&) {
    PskServerOptions options;
    options.keys = r.required_file("keys");
    options.allow_plaintext = r.boolean("allow_plaintext").value_or(false);
    auto keys = std::make_shared<PskKeys>(std::move(options));
    BuiltLayer layer = before_rest(psk(keys));
    // SIGHUP re-reads the key file.
    layer.reloadables.push_back(make_reloadable(
        [keys] { keys->reload(); }, [keys, where = r.prefix()] { return where + " " + keys->name(); },
        [keys]() -> std::vector<std::string> {
            if (!keys->options().allow_plaintext) return {};
            return {plaintext_warning};
        }));
    return layer;
}

BuiltLayer build_psk_client(TableReader& r, const LayerContext&) {
    client::PskClientOptions options;
    options.key_file = r.required_file("key_file");
    options.key_id = r.string("key_id");
    if (options.key_id && !valid_psk_id(*options.key_id))
        r.fail("key_id", "invalid key id (1 to 64 of A-Z a-z 0-9 . _ @ -)");
    options.allow_plaintext = r.boolean("allow_plaintext").value_or(false);
    bool plaintext = options.allow_plaintext;
    BuiltLayer layer = before_rest(client::psk(std::move(options)));
    // The client's key is read once, when the chain is built: this only carries its startup warning.
    if (plaintext)
        layer.reloadables.push_back(make_reloadable([] {}, [where = r.prefix()] { return where + " psk"; },
                                                    [] { return std::vector<std::string>{plaintext_warning}; }));
    return layer;
}

}  // namespace

void add_psk_kinds(Registry& registry) {
    registry.add({.name = "psk", .side = Side::server, .keys = {"keys", "allow_plaintext"},
                  .authenticates = true, .build = build_psk_server});
    registry.add({.name = "psk", .side = Side::client, .keys = {"key_file", "key_id", "allow_plaintext"},
                  .authenticates = true, .build = build_psk_client});
}

}  // namespace authchain::config
