#include <authchain/auth/tls_peer.hpp>

#include <botan/base64.h>

#include <algorithm>
#include <memory>
#include <stdexcept>

namespace authchain {

namespace {

constexpr const char* tls_peer_layer = "tls_peer";

bool contains(const std::vector<std::string>& list, const std::string& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

std::string normal_serial(std::string serial) {
    std::string out;
    for (char c : serial) {
        if (c == ':') continue;
        out += (c >= 'a' && c <= 'f') ? static_cast<char>(c - 'a' + 'A') : c;
    }
    out.erase(0, std::min(out.find_first_not_of('0'), out.size() ? out.size() - 1 : 0));
    return out;
}

bool allowed(const TlsPeerRules& rules, const Credentials& c) {
    if (c.cert_common_name && contains(rules.allow_cn, *c.cert_common_name)) return true;
    if (c.cert_serial) {
        for (const auto& s : rules.allow_serial)
            if (normal_serial(s) == normal_serial(*c.cert_serial)) return true;
    }
    if (c.cert_san) {
        for (const auto& san : *c.cert_san) {
            if (san.starts_with("DNS:") && contains(rules.allow_dns, san.substr(4))) return true;
            if (san.starts_with("URI:") && contains(rules.allow_uri, san.substr(4))) return true;
        }
    }
    return false;
}

asio::awaitable<Session> check_peer(Session session, std::shared_ptr<const TlsPeerRules> rules) {
    const Credentials& c = session.credentials;
    if (!c.cert_fingerprint) deny(DenyReason::denied, "tls_peer: no verified peer certificate");
    const std::string who = "certificate \"" + c.cert_subject.value_or("") + "\" (" + *c.cert_fingerprint + ")";
    if (!rules->pins.empty() && !contains(rules->pins, *c.cert_fingerprint))
        deny(DenyReason::denied, "tls_peer: " + who + " matches no pin");
    const bool lists = !(rules->allow_cn.empty() && rules->allow_dns.empty() && rules->allow_uri.empty() &&
                         rules->allow_serial.empty());
    if (lists && !allowed(*rules, c)) deny(DenyReason::denied, "tls_peer: " + who + " is not allowed");
    session.credentials.note(tls_peer_layer, rules->pins.empty() ? "allowed" : "pinned");
    co_return session;
}

}  // namespace

std::string tls_pin_error(const std::string& pin) {
    if (!pin.starts_with("sha256//")) return "expected \"sha256//BASE64\" (the SHA-256 of the SubjectPublicKeyInfo)";
    try {
        if (Botan::base64_decode(pin.substr(8)).size() == 32 && pin.size() == 8 + 44) return {};
    } catch (const std::exception&) {
    }
    return "\"" + pin + "\": expected 32 bytes in base64 after sha256//";
}

Authenticator tls_peer(TlsPeerRules rules) {
    if (rules.empty()) throw std::invalid_argument("tls_peer: no pins and no allow rules");
    for (const auto& pin : rules.pins)
        if (auto why = tls_pin_error(pin); !why.empty()) throw std::invalid_argument("tls_peer: " + why);
    auto shared = std::make_shared<const TlsPeerRules>(std::move(rules));
    return [shared](Session session) { return check_peer(std::move(session), shared); };
}

}  // namespace authchain
