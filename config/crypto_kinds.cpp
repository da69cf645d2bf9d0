// The kinds backed by keys and cryptography: secure_channel and public_key,
// server and client side.
#include <authchain/auth/public_key.hpp>
#include "config/kinds.hpp"
#include <authchain/transport/secure_channel.hpp>

namespace authchain::config {
namespace {

// `suites` (alias `ciphers`): Noise suite names, preferred first, checked by
// the transport's own rule; rekey_after_records / rekey_after_bytes.
BuiltLayer build_secure_channel(TableReader& r, const LayerContext& context) {
    if (r.has("suites") && r.has("ciphers")) r.fail("ciphers", "give either suites or ciphers, not both");
    std::string_view key = r.has("ciphers") ? "ciphers" : "suites";
    SecureChannelOptions options;
    if (auto suites = r.strings(key)) {
        if (auto why = secure_channel_suites_error(*suites); !why.empty()) r.fail(key, why);
        options.suites = *suites;
    }
    if (auto n = r.integer("rekey_after_records", 1, std::int64_t{1} << 40))
        options.rekey_after_records = static_cast<std::uint64_t>(*n);
    if (auto n = r.integer("rekey_after_bytes", 1, std::int64_t{1} << 50))
        options.rekey_after_bytes = static_cast<std::uint64_t>(*n);
    return before_rest(context.side == Side::server ? secure_channel(options) : client::secure_channel(options));
}

BuiltLayer build_public_key_server(TableReader& r, const LayerContext& context) {
    PublicKeyServerOptions options;
    options.host_key = r.required_file("host_key");
    options.authorized_keys = r.required_file("authorized_keys");
    if (auto secret = r.secret_file("host_key_passphrase_file"))
        options.host_key_passphrase = openssh::Passphrase::from_file(*secret);  // read at each (re)load
    options.ignore_command = r.boolean("ignore_command").value_or(false);
    if (auto cert = r.file("host_certificate")) options.host_certificate = *cert;
    if (auto revoked = r.file("revoked_keys")) options.revoked_keys = *revoked;
    // permitopen= keys may reach only this gate's backend (a TCP one: a Unix
    // socket cannot be named by permitopen, so such keys are then refused).
    if (context.backend && !context.backend->is_unix()) options.backend = context.backend->to_string();
    auto files = std::make_shared<PublicKeyFiles>(std::move(options));
    BuiltLayer layer = before_rest(public_key(files));
    // SIGHUP re-reads the host key (and certificate), authorized_keys and revoked_keys.
    layer.reloadables.push_back(make_reloadable([files] { files->reload(); },
                                                [files, where = r.prefix()] { return where + " " + files->name(); },
                                                [files] { return files->warnings(); }));
    return layer;
}

BuiltLayer build_public_key_client(TableReader& r, const LayerContext& context) {
    client::PublicKeyClientOptions options;
    options.identity = r.required_file("identity");
    options.strict = r.boolean("strict").value_or(true);
    options.hash_new_hosts = r.boolean("hash_new_hosts").value_or(false);
    if (!r.has("known_hosts")) r.fail("known_hosts", "missing required key");
    // Strict: a missing known_hosts would refuse every server, so say it now.
    // accept-new creates it, so then only its directory must exist.
    if (options.strict) {
        options.known_hosts = *r.file("known_hosts");
    } else {
        options.known_hosts = *r.path("known_hosts");
        std::error_code ec;
        if (!std::filesystem::is_directory(options.known_hosts.parent_path(), ec))
            r.fail("known_hosts", "directory not found: " + options.known_hosts.parent_path().string());
    }
    if (auto secret = r.secret_file("passphrase_file"))
        options.passphrase = openssh::Passphrase::from_file(*secret);
    options.host_name = r.string("host_name").value_or(context.server_host);
    if (options.host_name.empty()) r.fail("host_name", "empty host name");
    options.port = context.server_port;
    if (auto cert = r.file("certificate")) options.certificate = *cert;
    options.user = r.string("user").value_or("");
    if (r.has("certificate") && options.user.empty()) r.fail("user", "required with a certificate");
    return before_rest(client::public_key(std::move(options)));
}

}  // namespace

void add_crypto_kinds(Registry& registry) {
    const std::vector<std::string> secure_channel_keys{"suites", "ciphers", "rekey_after_records",
                                                       "rekey_after_bytes"};
    for (Side side : {Side::server, Side::client})
        registry.add({.name = "secure_channel", .side = side, .keys = secure_channel_keys, .transport = true,
                      .build = build_secure_channel});
    registry.add({.name = "public_key",
                  .side = Side::server,
                  .keys = {"host_key", "authorized_keys", "host_key_passphrase_file", "ignore_command",
                           "host_certificate", "revoked_keys"},
                  .authenticates = true,
                  .build = build_public_key_server});
    registry.add({.name = "public_key",
                  .side = Side::client,
                  .keys = {"identity", "known_hosts", "host_name", "strict", "hash_new_hosts", "passphrase_file",
                           "certificate", "user"},
                  .authenticates = true,
                  .build = build_public_key_client});
}

}  // namespace authchain::config
