// The tls kind, gate and tunnel/probe side (transport/tls.hpp, with the peer
// checks of auth/tls_peer.hpp and the reloadable files of auth/tls_files.hpp).
#include <authchain/auth/tls_files.hpp>
#include <authchain/auth/tls_peer.hpp>
#include "config/kinds.hpp"
#include <authchain/transport/tls.hpp>

namespace authchain::config {
namespace {

std::filesystem::path existing_file(TableReader& r, std::string_view key, const std::string& text) {
    std::filesystem::path p(text);
    if (p.is_relative()) p = r.base_dir() / p;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(p, ec)) r.fail(key, "file not found: " + p.string());
    return p;
}

// `ca`: a path, a list of paths, or "system" (alone or in the list).
void read_ca(TableReader& r, TlsFileOptions& options) {
    const toml::node* n = r.node("ca");
    if (!n) return;
    std::vector<std::string> entries;
    if (n->is_string()) {
        entries.push_back(n->as_string()->get());
    } else if (n->is_array()) {
        for (const toml::node& item : *n->as_array()) {
            if (!item.is_string()) r.fail("ca", "expected a path, a list of paths or \"system\"");
            entries.push_back(item.as_string()->get());
        }
    } else {
        r.fail("ca", "expected a path, a list of paths or \"system\", got " + type_name(*n));
    }
    if (entries.empty()) r.fail("ca", "empty list");
    for (const auto& e : entries) {
        if (e == "system") options.system_ca = true;
        else options.ca.push_back(existing_file(r, "ca", e));
    }
}

TlsPolicy read_policy(TableReader& r) {
    TlsPolicy policy;
    if (auto c = r.strings("ciphers")) policy.ciphers = *c;
    if (auto g = r.strings("groups")) policy.groups = *g;
    if (auto why = tls_policy_error(policy); !why.empty()) r.fail(r.has("groups") ? "groups" : "ciphers", why);
    return policy;
}

TlsPeerRules read_peer_rules(TableReader& r) {
    TlsPeerRules rules;
    if (auto pins = r.strings("pins")) {
        for (const auto& pin : *pins)
            if (auto why = tls_pin_error(pin); !why.empty()) r.fail("pins", why);
        rules.pins = *pins;
    }
    rules.allow_cn = r.strings("allow_cn").value_or(std::vector<std::string>{});
    rules.allow_dns = r.strings("allow_dns").value_or(std::vector<std::string>{});
    rules.allow_uri = r.strings("allow_uri").value_or(std::vector<std::string>{});
    rules.allow_serial = r.strings("allow_serial").value_or(std::vector<std::string>{});
    return rules;
}

// The files, the layer, the peer checks after it, the reloadable.
BuiltLayer assemble(TableReader& r, TlsFileOptions files_options, const std::function<Authenticator(TlsCredentialsSource)>& make,
                    const TlsPeerRules& rules) {
    auto files = std::make_shared<TlsFiles>(std::move(files_options));
    Authenticator layer = make(TlsFiles::source(files));
    if (!rules.empty()) layer = layer | tls_peer(rules);
    BuiltLayer built = before_rest(std::move(layer));
    built.reloadables.push_back(make_reloadable([files] { files->reload(); },
                                                [files, where = r.prefix()] { return where + " tls: " + files->name(); }));
    return built;
}

TlsFileOptions read_files(TableReader& r, bool cert_required) {
    TlsFileOptions options;
    if (cert_required || r.has("cert") || r.has("key")) {
        options.cert = r.required_file("cert");
        options.key = r.required_file("key");
    }
    if (auto secret = r.secret_file("key_passphrase_file"))
        options.key_passphrase = openssh::Passphrase::from_file(*secret);
    read_ca(r, options);
    return options;
}

BuiltLayer build_tls_server(TableReader& r, const LayerContext&) {
    TlsFileOptions files = read_files(r, true);
    ClientCertificate mode = ClientCertificate::required;
    if (const toml::node* n = r.node("require_client_cert")) {
        if (n->is_boolean()) mode = n->as_boolean()->get() ? ClientCertificate::required : ClientCertificate::none;
        else if (n->is_string() && n->as_string()->get() == "optional") mode = ClientCertificate::optional;
        else r.fail("require_client_cert", "expected true, false or \"optional\"");
    }
    if (mode != ClientCertificate::none && files.ca.empty() && !files.system_ca)
        r.fail("ca", "missing: client certificates are checked against it (or set require_client_cert = false)");
    TlsPolicy policy = read_policy(r);
    TlsPeerRules rules = read_peer_rules(r);
    if (!rules.empty() && mode == ClientCertificate::none)
        r.fail("require_client_cert", "pins and allow_* check the client certificate: it cannot be false");
    return assemble(r, std::move(files),
                    [&](TlsCredentialsSource source) {
                        return tls({.credentials = std::move(source), .client_certificate = mode, .policy = policy});
                    },
                    rules);
}

BuiltLayer build_tls_client(TableReader& r, const LayerContext& context) {
    TlsFileOptions files = read_files(r, false);
    if (files.ca.empty() && !files.system_ca)
        r.fail("ca", "missing required key (the server's certificate is checked against it; \"system\" for the system store)");
    std::string server_name = r.string("server_name").value_or(context.server_host);
    if (server_name.empty()) r.fail("server_name", "empty server name");
    TlsPolicy policy = read_policy(r);
    TlsPeerRules rules = read_peer_rules(r);
    return assemble(r, std::move(files),
                    [&](TlsCredentialsSource source) {
                        return client::tls({.credentials = std::move(source), .server_name = server_name, .policy = policy});
                    },
                    rules);
}

}  // namespace

void add_tls_kinds(Registry& registry) {
    const std::vector<std::string> common{"cert", "key", "key_passphrase_file", "ca", "ciphers", "groups",
                                          "pins", "allow_cn", "allow_dns", "allow_uri", "allow_serial"};
    auto server_keys = common, client_keys = common;
    server_keys.push_back("require_client_cert");
    client_keys.push_back("server_name");
    registry.add({.name = "tls", .side = Side::server, .keys = server_keys, .authenticates = true, .transport = true,
                  .build = build_tls_server});
    registry.add({.name = "tls", .side = Side::client, .keys = client_keys, .authenticates = true, .transport = true,
                  .build = build_tls_client});
}

}  // namespace authchain::config
