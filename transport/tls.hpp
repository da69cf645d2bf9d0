// tls: a TLS 1.2 stream layer (Botan 2.19), server and client side.
//
//     auto chain = tls({.credentials = files->source()}) | public_key(...);      // server
//     auto chain = client::tls({.credentials = ..., .server_name = "db1"});      // client
//
// The handshake runs on the session's stream; the session continues over the
// TLS stream: protection() is confidential, peer-authenticated when the peer
// showed a certificate that verified, with the RFC 5705 exporter value
// (label "EXPORTER-authchain-channel-id", 32 bytes) as channel id, so
// public_key, password and psk layers after it are bound to this connection.
//
// Policy (docs/tls.md): TLS 1.2 only; ECDHE over x25519 or secp256r1; AEAD
// suites only (AES-GCM, ChaCha20-Poly1305) with ECDSA or RSA certificates; no
// CBC, no static RSA key exchange, no renegotiation, no compression, no
// session tickets or resumption; the extended master secret is required.
// Revocation is not checked: certificates are meant to be short-lived
// (`authchain ca issue`, 24 hours by default) instead of revoked.
//
// Verification: the peer's chain must lead to one of the configured trust
// anchors (never the system store unless asked for by name), be valid now
// (expired and not-yet-valid refused) and carry the right extended key
// usage. The client also checks the server's name (`server_name`) against
// the certificate's DNS (or IPv4 address) subject alternative names; the
// common name is never used as a host name.
//
// Closing: TLS 1.2 has no half-close (RFC 5246 7.2.1, and Botan 2 follows
// it): shutdown_send() sends close_notify and ends both directions; a
// peer's close_notify ends reading (0) and writing. A raw end of stream
// without close_notify is a protocol_error (a truncation).
//
// Facts proven (layer "tls"): channel_id; and for a peer certificate that
// verified: cert_subject (RFC 4514, as `openssl x509 -subject -nameopt
// RFC2253` prints it: "CN=alice,O=Example" for a subject encoded O, CN),
// cert_common_name, cert_serial (upper-case hex), cert_fingerprint (the
// SHA-256 of the SubjectPublicKeyInfo as "sha256//BASE64", the pin format
// of curl and ghostunnel), cert_san ("DNS:x", "URI:y", "IP:z", "email:w"),
// cert_not_after ("2026-11-30T16:00:00Z"); and tls_suite
// ("TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"). Peer checks beyond the
// chain (pins, allowed names) are auth/tls_peer.hpp.
#pragma once

#include <botan/secmem.h>

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <authchain/compose/session.hpp>

namespace authchain {

// A certificate chain, its private key and the trust anchors of one TLS
// endpoint, parsed and checked; immutable, shared by the connections that
// use it (a reload makes a new one; live connections keep theirs).
class TlsCredentials;

struct TlsCredentialsPem {
    std::string chain;                      // PEM certificates, leaf first; empty: none (client only)
    Botan::secure_vector<char> key;         // PEM PKCS#8 private key (encrypted or not); empty with chain
    std::optional<Botan::secure_vector<char>> key_passphrase;  // for an encrypted key
    std::vector<std::string> trust_anchors; // PEM CA certificates (one or more per entry)
    bool system_trust_store = false;        // also trust the system's CA store (only when asked by name)
};

// Parses and checks `pem`. Throws std::invalid_argument naming what is wrong:
// no certificate, a key that does not match the leaf, a leaf key that TLS
// here cannot use (ECDSA or RSA only: Botan 2.19 has no Ed25519 in TLS),
// a trust anchor that is not a certificate, no trust anchor at all.
std::shared_ptr<const TlsCredentials> make_tls_credentials(TlsCredentialsPem pem);

// When the leaf certificate of `credentials` expires; nullopt without one.
std::optional<std::chrono::system_clock::time_point> certificate_not_after(const TlsCredentials& credentials);

// Gives the credentials for a new connection (a reloadable file set swaps them).
using TlsCredentialsSource = std::function<std::shared_ptr<const TlsCredentials>()>;

// What may be negotiated; users tighten it by giving subsets.
struct TlsPolicy {
    // Preferred first: "AES-256/GCM", "AES-128/GCM", "ChaCha20Poly1305".
    std::vector<std::string> ciphers = {"AES-256/GCM", "AES-128/GCM", "ChaCha20Poly1305"};
    // Preferred first: "x25519", "secp256r1".
    std::vector<std::string> groups = {"x25519", "secp256r1"};
};

// Why `policy` cannot be used ("unknown cipher \"AES-128/CBC\" (known: ...)"),
// or empty when it can.
std::string tls_policy_error(const TlsPolicy& policy);

enum class ClientCertificate {
    required,  // no certificate, no connection (the default)
    optional,  // asked for; a client without one gets through unproven
    none,      // not asked for
};

struct TlsServerOptions {
    TlsCredentialsSource credentials;  // must give a chain and key; trust anchors unless `none`
    ClientCertificate client_certificate = ClientCertificate::required;
    TlsPolicy policy;
};

// Server side. Throws std::invalid_argument for a bad policy or missing
// credentials source. Denies: protocol_error for anything that is not a
// TLS 1.2 handshake this policy accepts (old versions, CBC-only offers, no
// extended master secret, bad messages, end of stream); denied for a client
// certificate that does not verify or is missing when required. Put it
// under with_timeout (the drivers do).
Authenticator tls(TlsServerOptions options);

namespace client {
struct TlsClientOptions {
    TlsCredentialsSource credentials;  // trust anchors required; chain optional
    // The name the server's certificate must carry (DNS name or IPv4
    // address). Required: the config defaults it to the host of `server`.
    std::string server_name;
    TlsPolicy policy;
};
// Client side; the same policy. Denies a server certificate that does not
// verify or does not name server_name (denied).
Authenticator tls(TlsClientOptions options);
}  // namespace client

}  // namespace authchain
