#include <authchain/transport/detail/tls/engine.hpp>

#include <arpa/inet.h>
#include <botan/auto_rng.h>
#include <botan/base64.h>
#include <botan/credentials_manager.h>
#include <botan/hash.h>
#include <botan/hex.h>
#include <botan/oids.h>
#include <botan/system_rng.h>
#include <botan/tls_client.h>
#include <botan/tls_exceptn.h>
#include <botan/tls_messages.h>
#include <botan/tls_policy.h>
#include <botan/tls_server.h>
#include <botan/tls_session_manager.h>
#include <botan/x509path.h>

#include <algorithm>
#include <ctime>
#include <map>

#include <authchain/compose/error.hpp>
#include <authchain/transport/detail/tls/credentials.hpp>

namespace authchain::tls_detail {

namespace {

using Botan::TLS::Alert;
using Botan::TLS::Group_Params;

// The one policy (tls.hpp): TLS 1.2, ECDHE, AEAD, no renegotiation, no
// resumption, no revocation data (short-lived certificates instead).
class StrictPolicy final : public Botan::TLS::Policy {
public:
    StrictPolicy(const TlsPolicy& p, bool require_client) : ciphers_(p.ciphers), require_client_(require_client) {
        for (const auto& g : p.groups) groups_.push_back(g == "x25519" ? Group_Params::X25519 : Group_Params::SECP256R1);
    }
    std::vector<std::string> allowed_ciphers() const override { return ciphers_; }
    std::vector<std::string> allowed_macs() const override { return {"AEAD"}; }
    std::vector<std::string> allowed_key_exchange_methods() const override { return {"ECDH"}; }
    std::vector<std::string> allowed_signature_methods() const override { return {"ECDSA", "RSA"}; }
    std::vector<std::string> allowed_signature_hashes() const override { return {"SHA-512", "SHA-384", "SHA-256"}; }
    std::vector<Group_Params> key_exchange_groups() const override { return groups_; }
    bool require_cert_revocation_info() const override { return false; }
    bool support_cert_status_message() const override { return false; }
    bool allow_tls10() const override { return false; }
    bool allow_tls11() const override { return false; }
    bool allow_tls12() const override { return true; }
    bool allow_dtls10() const override { return false; }
    bool allow_dtls12() const override { return false; }
    bool allow_insecure_renegotiation() const override { return false; }
    bool allow_client_initiated_renegotiation() const override { return false; }
    bool allow_server_initiated_renegotiation() const override { return false; }
    bool abort_connection_on_undesired_renegotiation() const override { return true; }
    bool allow_resumption_for_renegotiation() const override { return false; }
    std::uint32_t session_ticket_lifetime() const override { return 0; }
    bool include_time_in_hello_random() const override { return false; }
    bool server_uses_own_ciphersuite_preferences() const override { return true; }
    std::size_t minimum_rsa_bits() const override { return 2048; }
    std::size_t minimum_ecdsa_group_size() const override { return 256; }
    bool require_client_certificate_authentication() const override { return require_client_; }
    bool request_client_certificate_authentication() const override { return require_client_; }
    // DESIGN rule 2: a bound on what a peer's Certificate message may hold.
    std::size_t maximum_certificate_chain_size() const override { return 64 * 1024; }

private:
    std::vector<std::string> ciphers_;
    std::vector<Group_Params> groups_;
    bool require_client_;
};

Botan::RandomNumberGenerator& rng() {
    static Botan::System_RNG system;
    return system;
}

std::string short_name(const Botan::OID& oid) {
    static const std::map<std::string, std::string> names{
        {"X520.CommonName", "CN"},  {"X520.Country", "C"},       {"X520.State", "ST"},
        {"X520.Locality", "L"},     {"X520.Organization", "O"},  {"X520.OrganizationalUnit", "OU"},
        {"PKCS9.EmailAddress", "emailAddress"}, {"X520.SerialNumber", "serialNumber"}};
    auto it = names.find(Botan::OIDS::oid2str_or_empty(oid));
    return it == names.end() ? oid.to_string() : it->second;
}

std::string escape_rdn_value(const std::string& v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (std::string_view(",+\"\\<>;=").find(c) != std::string_view::npos || (i == 0 && (c == ' ' || c == '#')) ||
            (i + 1 == v.size() && c == ' '))
            out += '\\';
        out += c;
    }
    return out;
}

// RFC 4514: the last RDN of the encoding first.
std::string subject_text(const Botan::X509_DN& dn) {
    std::string out;
    const auto& rdns = dn.dn_info();
    for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
        if (!out.empty()) out += ',';
        out += short_name(it->first) + "=" + escape_rdn_value(it->second.value());
    }
    return out;
}

std::string iso_time(const Botan::X509_Time& t) {
    const std::time_t seconds = static_cast<std::time_t>(t.time_since_epoch());
    std::tm tm{};
    ::gmtime_r(&seconds, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

PeerCertificate describe(const Botan::X509_Certificate& cert) {
    PeerCertificate out;
    out.subject = subject_text(cert.subject_dn());
    out.common_name = cert.subject_dn().get_first_attribute("CN");
    out.serial = Botan::hex_encode(cert.serial_number());
    auto sha256 = Botan::HashFunction::create_or_throw("SHA-256");
    out.spki_sha256 = "sha256//" + Botan::base64_encode(sha256->process(cert.subject_public_key_info()));
    static const std::map<std::string, std::string> prefixes{{"DNS", "DNS"}, {"IP", "IP"}, {"URI", "URI"},
                                                             {"RFC822", "email"}};
    for (const auto& [type, value] : cert.subject_alt_name().get_attributes()) {
        auto it = prefixes.find(type);
        if (it != prefixes.end()) out.san.push_back(it->second + ":" + value);
    }
    out.not_after = iso_time(cert.not_after());
    return out;
}

std::string lower(std::string s) {
    for (char& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

// RFC 6125 6.4.3, the strict part: "*" only as the whole left-most label,
// matching exactly one label.
bool dns_name_matches(std::string pattern, std::string name) {
    pattern = lower(std::move(pattern));
    name = lower(std::move(name));
    if (!pattern.starts_with("*.")) return pattern == name;
    const std::size_t dot = name.find('.');
    if (dot == std::string::npos || dot == 0) return false;
    const std::string rest = pattern.substr(1);
    return rest.find('*') == std::string::npos && std::count(rest.begin(), rest.end(), '.') >= 2 &&
           name.substr(dot) == rest;
}

bool is_ip_address(const std::string& name) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, name.c_str(), buf) == 1 || ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// RFC 6125: DNS names against DNS SANs (wildcards in the left-most label),
// addresses against IP SANs; never the common name.
bool names_server(const Botan::X509_Certificate& cert, const std::string& name) {
    const auto& alt = cert.subject_alt_name();
    if (is_ip_address(name)) {
        auto ips = alt.get_attribute("IP");
        return std::find(ips.begin(), ips.end(), name) != ips.end();
    }
    for (const auto& dns : alt.get_attribute("DNS"))
        if (dns_name_matches(dns, name)) return true;
    return false;
}

// OpenSSL's name of a suite this policy allows (what HAProxy and stunnel
// log): ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 -> ECDHE-ECDSA-AES256-GCM-SHA384.
std::string openssl_suite_name(std::string name) {
    auto replace = [&](const std::string& from, const std::string& to) {
        if (auto at = name.find(from); at != std::string::npos) name.replace(at, from.size(), to);
    };
    replace("_WITH_", "-");
    replace("AES_128_GCM", "AES128-GCM");
    replace("AES_256_GCM", "AES256-GCM");
    replace("CHACHA20_POLY1305_SHA256", "CHACHA20-POLY1305");
    for (char& c : name)
        if (c == '_') c = '-';
    return name;
}

bool refusal_alert(Alert::Type type) {
    switch (type) {
        case Alert::BAD_CERTIFICATE:
        case Alert::UNSUPPORTED_CERTIFICATE:
        case Alert::CERTIFICATE_REVOKED:
        case Alert::CERTIFICATE_EXPIRED:
        case Alert::CERTIFICATE_UNKNOWN:
        case Alert::UNKNOWN_CA:
        case Alert::ACCESS_DENIED: return true;
        default: return false;
    }
}

}  // namespace

struct Engine::Impl final : Botan::TLS::Callbacks, Botan::Credentials_Manager {
    Impl(EngineSettings s, bool server)
        : settings(std::move(s)),
          is_server(server),
          policy(settings.policy, server && settings.client_certificate == ClientCertificate::required) {}

    // Callbacks: fill buffers only.
    void tls_emit_data(const std::uint8_t data[], std::size_t size) override { output.insert(output.end(), data, data + size); }
    void tls_record_received(std::uint64_t, const std::uint8_t data[], std::size_t size) override {
        plaintext.insert(plaintext.end(), data, data + size);
    }
    void tls_alert(Alert alert) override {
        if (alert.type() == Alert::CLOSE_NOTIFY || alert.is_fatal()) closed = true;
        if (alert.is_fatal() && last_alert.empty()) {
            last_alert = alert.type_string();
            peer_refused = refusal_alert(alert.type());
        }
    }
    bool tls_session_established(const Botan::TLS::Session& session) override {
        if (!session.supports_extended_master_secret())
            throw Botan::TLS::TLS_Exception(Alert::HANDSHAKE_FAILURE, "extended master secret required");
        suite = "TLSv1.2 " + openssl_suite_name(session.ciphersuite().to_string());
        return false;  // nothing is cached: no resumption
    }
    // A client's empty Certificate message: the refusal that follows is a
    // missing certificate (denied), not a malformed handshake.
    void tls_inspect_handshake_msg(const Botan::TLS::Handshake_Message& message) override {
        if (!is_server || message.type() != Botan::TLS::CERTIFICATE) return;
        if (auto* c = dynamic_cast<const Botan::TLS::Certificate*>(&message); c && c->empty() &&
            settings.client_certificate == ClientCertificate::required)
            verify_failure = "the client showed no certificate";
    }
    void tls_verify_cert_chain(const std::vector<Botan::X509_Certificate>& chain,
                               const std::vector<std::shared_ptr<const Botan::OCSP::Response>>& ocsp,
                               const std::vector<Botan::Certificate_Store*>&, Botan::Usage_Type usage,
                               const std::string&, const Botan::TLS::Policy& p) override {
        auto fail = [&](std::string why) {
            verify_failure = std::move(why);
            throw Botan::TLS::TLS_Exception(Alert::BAD_CERTIFICATE, verify_failure);
        };
        if (chain.empty()) fail("empty certificate chain");
        const auto stores = settings.credentials->trust_stores();
        if (stores.empty()) fail("no trust anchors configured");
        Botan::Path_Validation_Restrictions restrictions(false, p.minimum_signature_strength());
        const auto result = Botan::x509_path_validate(chain, restrictions, stores, "", usage,
                                                      std::chrono::system_clock::now(),
                                                      std::chrono::milliseconds(0), ocsp);
        if (!result.successful_validation())
            fail("certificate of \"" + subject_text(chain.front().subject_dn()) + "\": " + result.result_string());
        if (!is_server && !names_server(chain.front(), settings.server_name))
            fail("certificate of \"" + subject_text(chain.front().subject_dn()) + "\" does not name \"" +
                 settings.server_name + "\"");
        peer = describe(chain.front());
    }

    // Credentials_Manager: what Botan may use of ours.
    std::vector<Botan::Certificate_Store*> trusted_certificate_authorities(const std::string& type,
                                                                          const std::string&) override {
        if (type == "tls-server" && settings.client_certificate == ClientCertificate::none) return {};
        return settings.credentials->trust_stores();
    }
    std::vector<Botan::X509_Certificate> cert_chain(const std::vector<std::string>& key_types, const std::string&,
                                                    const std::string&) override {
        const auto& c = *settings.credentials;
        if (c.chain.empty() || std::find(key_types.begin(), key_types.end(), c.key->algo_name()) == key_types.end())
            return {};
        return c.chain;
    }
    Botan::Private_Key* private_key_for(const Botan::X509_Certificate&, const std::string&,
                                        const std::string&) override {
        return settings.credentials->key.get();
    }

    EngineSettings settings;
    bool is_server;
    StrictPolicy policy;
    Botan::TLS::Session_Manager_Noop sessions;
    std::unique_ptr<Botan::TLS::Channel> channel;
    Botan::secure_vector<std::uint8_t> output, plaintext;
    bool closed = false;
    bool peer_refused = false;
    std::string last_alert, verify_failure, suite;
    std::optional<PeerCertificate> peer;
};

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::server(EngineSettings settings) {
    auto impl = std::make_unique<Impl>(std::move(settings), true);
    Impl& i = *impl;
    i.channel = std::make_unique<Botan::TLS::Server>(i, i.sessions, i, i.policy, rng());
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

std::unique_ptr<Engine> Engine::client(EngineSettings settings) {
    auto impl = std::make_unique<Impl>(std::move(settings), false);
    Impl& i = *impl;
    // SNI carries DNS names only (RFC 6066).
    const std::string sni = is_ip_address(i.settings.server_name) ? "" : i.settings.server_name;
    i.channel = std::make_unique<Botan::TLS::Client>(i, i.sessions, i, i.policy, rng(),
                                                     Botan::TLS::Server_Information(sni),
                                                     Botan::TLS::Protocol_Version::TLS_V12);
    return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::received(ByteView bytes) {
    try {
        impl_->channel->received_data(bytes.data(), bytes.size());
    } catch (const std::exception& e) {
        if (!impl_->verify_failure.empty()) deny(DenyReason::denied, "tls: " + impl_->verify_failure);
        deny(DenyReason::protocol_error, std::string("tls: ") + e.what());
    }
    if (impl_->closed && !impl_->channel->is_active() && !impl_->last_alert.empty())
        deny(impl_->peer_refused ? DenyReason::denied : DenyReason::protocol_error,
             "tls: the peer sent alert " + impl_->last_alert);
}

void Engine::send(ByteView bytes) { impl_->channel->send(bytes.data(), bytes.size()); }

void Engine::close() {
    if (!impl_->channel->is_closed()) impl_->channel->close();
}

void Engine::send_access_denied() {
    if (!impl_->channel->is_closed()) impl_->channel->send_fatal_alert(Alert::ACCESS_DENIED);
}

Botan::secure_vector<std::uint8_t>& Engine::output() noexcept { return impl_->output; }
Botan::secure_vector<std::uint8_t>& Engine::plaintext() noexcept { return impl_->plaintext; }
bool Engine::established() const { return impl_->channel->is_active(); }
bool Engine::peer_closed() const { return impl_->closed; }

Bytes Engine::channel_id() const {
    return Botan::unlock(impl_->channel->key_material_export(channel_id_label, "", channel_id_size).bits_of());
}

std::string Engine::suite() const { return impl_->suite; }
std::optional<PeerCertificate> Engine::peer() const { return impl_->peer; }

}  // namespace authchain::tls_detail
