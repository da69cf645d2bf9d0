#include "config/crypto_kinds.hpp"

#include <algorithm>

#include "auth/public_key.hpp"
#include "transport/secure_channel.hpp"

namespace authchain::config {
namespace {

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// `suites` (alias `ciphers`): Noise suite names, preferred first;
// rekey_after_records / rekey_after_bytes.
Layer build_secure_channel(TableReader& r, const LayerContext& context) {
    if (r.has("suites") && r.has("ciphers")) r.fail("ciphers", "give either suites or ciphers, not both");
    std::string_view key = r.has("ciphers") ? "ciphers" : "suites";
    SecureChannelOptions options;
    if (auto suites = r.strings(key)) {
        if (suites->empty() || suites->size() > 16) r.fail(key, "give 1 to 16 suites");
        const auto known = secure_channel_suites();
        for (const auto& s : *suites)
            if (std::find(known.begin(), known.end(), s) == known.end())
                r.fail(key, "unknown suite \"" + s + "\" (known: " + joined(known) + ")");
        options.suites = *suites;
    }
    if (auto n = r.integer("rekey_after_records", 1, std::int64_t{1} << 40))
        options.rekey_after_records = static_cast<std::uint64_t>(*n);
    if (auto n = r.integer("rekey_after_bytes", 1, std::int64_t{1} << 50))
        options.rekey_after_bytes = static_cast<std::uint64_t>(*n);
    return sequential(context.side == Side::server ? secure_channel(options) : client::secure_channel(options));
}

// SIGHUP re-reads the host key and authorized_keys of one public_key layer.
class ReloadablePublicKeyFiles final : public Reloadable {
public:
    ReloadablePublicKeyFiles(std::shared_ptr<PublicKeyFiles> files, std::string where)
        : files_(std::move(files)), where_(std::move(where)) {}
    void reload() override { files_->reload(); }
    std::string name() const override { return where_ + " " + files_->name(); }

private:
    std::shared_ptr<PublicKeyFiles> files_;
    std::string where_;
};

Layer build_public_key_server(TableReader& r, const LayerContext&) {
    PublicKeyServerOptions options;
    options.host_key = r.required_file("host_key");
    options.authorized_keys = r.required_file("authorized_keys");
    options.host_key_passphrase = r.secret_file("host_key_passphrase_file");
    auto files = std::make_shared<PublicKeyFiles>(std::move(options));
    Layer layer = sequential(public_key(files));
    layer.reloadables.push_back(std::make_shared<ReloadablePublicKeyFiles>(files, r.prefix()));
    return layer;
}

Layer build_public_key_client(TableReader& r, const LayerContext& context) {
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
    options.passphrase = r.secret_file("passphrase_file");
    options.host_name = r.string("host_name").value_or(context.server_host);
    if (options.host_name.empty()) r.fail("host_name", "empty host name");
    options.port = context.server_port;
    return sequential(client::public_key(std::move(options)));
}

}  // namespace

std::vector<LayerKind> crypto_layer_kinds(Side side) {
    std::vector<LayerKind> kinds;
    kinds.push_back({"secure_channel", side, false,
                     {"suites", "ciphers", "rekey_after_records", "rekey_after_bytes"}, build_secure_channel});
    if (side == Side::server)
        kinds.push_back({"public_key", side, true, {"host_key", "authorized_keys", "host_key_passphrase_file"},
                         build_public_key_server});
    else
        kinds.push_back({"public_key", side, true,
                         {"identity", "known_hosts", "host_name", "strict", "hash_new_hosts", "passphrase_file"},
                         build_public_key_client});
    return kinds;
}

}  // namespace authchain::config
