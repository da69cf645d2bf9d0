// tls_peer: checks on the certificate a tls layer proved (transport/tls.hpp),
// for what Pyro's docs tell users to check by hand: pins and allowed names.
//
//     auto chain = tls({...}) | tls_peer({.allow_cn = {"worker-1"}});
//
// pins: the peer's SubjectPublicKeyInfo SHA-256 (cert_fingerprint) must be
// one of them ("sha256//BASE64", as curl's --pinnedpubkey and ghostunnel).
// allow_*: when any list is given, the peer must match at least one entry of
// any list: its common name in allow_cn, a DNS SAN in allow_dns, a URI SAN
// in allow_uri, or its serial (hex, case and colons ignored) in allow_serial.
// Both pins and allow lists given: both must hold. A peer without a
// verified certificate is denied. Denials are `denied`; the detail names the
// certificate.
#pragma once

#include <string>
#include <vector>

#include <authchain/compose/session.hpp>

namespace authchain {

struct TlsPeerRules {
    std::vector<std::string> pins;
    std::vector<std::string> allow_cn, allow_dns, allow_uri, allow_serial;

    bool empty() const {
        return pins.empty() && allow_cn.empty() && allow_dns.empty() && allow_uri.empty() && allow_serial.empty();
    }
};

// Why `pin` is not "sha256//" + base64 of 32 bytes, or empty.
std::string tls_pin_error(const std::string& pin);

// Throws std::invalid_argument for a bad pin or empty rules.
Authenticator tls_peer(TlsPeerRules rules);

}  // namespace authchain
