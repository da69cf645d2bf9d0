// A private certificate authority for TLS with short-lived certificates:
// what `authchain ca init|issue|sign` runs, for library users too.
//
//     authchain ca init /etc/authchain/ca --name "db CA"
//     authchain ca issue /etc/authchain/ca --name db1 --server --dns db1.example
//
// The CA key is ECDSA P-256 (ca.key, mode 0600), the CA certificate
// (ca.crt) self-signed with pathLenConstraint 0, so it signs leaves only.
// Leaves get an ECDSA P-256 key, a random 127-bit serial, critical key usage
// digitalSignature, extended key usage serverAuth or clientAuth, and subject
// alternative names only from what the caller asked for. Nothing is copied
// from a CSR but its public key and (unless a name is given) its common name.
// Lifetimes are short (24 hours by default, at most max_lifetime): there
// is no revocation, a certificate is renewed instead (renew_within).
// Every file is written atomically; private keys with mode 0600.
#pragma once

#include <botan/secmem.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace Botan {
class X509_Certificate;
class Private_Key;
}  // namespace Botan

namespace authchain::ca {

using Clock = std::chrono::system_clock;

// The CA: its certificate and key, loaded.
class Authority {
public:
    Authority(std::unique_ptr<Botan::X509_Certificate> cert, std::unique_ptr<Botan::Private_Key> key);
    Authority(Authority&&) noexcept;
    ~Authority();
    const Botan::X509_Certificate& certificate() const { return *cert_; }
    const Botan::Private_Key& key() const { return *key_; }
    std::string certificate_pem() const;

private:
    std::unique_ptr<Botan::X509_Certificate> cert_;
    std::unique_ptr<Botan::Private_Key> key_;
};

struct AuthorityOptions {
    std::string name = "authchain CA";                 // the CA's common name
    std::chrono::hours lifetime{24 * 365 * 10};
    Clock::time_point now = Clock::now();
};

// A new CA in memory.
Authority make_authority(const AuthorityOptions& options = {});
// Writes a new CA into `dir` (created 0700 if missing): ca.key (0600, PKCS#8
// PEM) and ca.crt. Refuses (std::runtime_error) when either exists.
void init_authority(const std::filesystem::path& dir, const AuthorityOptions& options = {});
// Reads dir/ca.crt and dir/ca.key (StrictModes checks, key 0600). Throws
// std::runtime_error naming the file.
Authority load_authority(const std::filesystem::path& dir);

enum class Purpose { server, client };

struct LeafRequest {
    std::string name;                  // common name (and the DNS name of a server without --dns/--ip)
    Purpose purpose = Purpose::client;
    std::vector<std::string> dns, ip, uri;  // subject alternative names (IPv4 addresses)
    std::chrono::hours lifetime{24};
    std::chrono::hours max_lifetime{720};
    Clock::time_point now = Clock::now();  // valid from 5 minutes before (clock skew)
};

struct Issued {
    std::string name;  // the common name it got
    std::string certificate_pem;
    Botan::secure_vector<char> key_pem;  // empty for a signed CSR
};

// Why `request` cannot be issued (no name, lifetime 0 or beyond max, a bad
// IP address or name), or empty.
std::string leaf_request_error(const LeafRequest& request);

// A new ECDSA P-256 key and its certificate. Throws std::invalid_argument
// with leaf_request_error.
Issued issue(const Authority& ca, const LeafRequest& request);
// A certificate for the key of the PEM CSR `csr_pem` (its self-signature
// checked). An empty request.name takes the CSR's common name. Throws
// std::invalid_argument.
Issued sign_request(const Authority& ca, std::string_view csr_pem, LeafRequest request);

// True when `certificate_pem` is a certificate issued by `ca`, valid at
// `now` and still at `now + within`: a renewal can wait.
bool still_valid(const Authority& ca, std::string_view certificate_pem, Clock::duration within,
                 Clock::time_point now = Clock::now());

// Writes NAME.crt (0644) and, if any, NAME.key (0600) into `dir`, atomically.
void write_issued(const std::filesystem::path& dir, const std::string& name, const Issued& issued);

}  // namespace authchain::ca
