// The files of a tls layer (transport/tls.hpp), read with OpenSSH's
// StrictModes (the key must be private) and re-read on SIGHUP: a reload
// that fails keeps the old set; new connections use the new one, live
// connections keep theirs.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/compose/current_snapshot.hpp>
#include <authchain/transport/tls.hpp>

namespace authchain {

struct TlsFileOptions {
    std::filesystem::path cert;  // PEM chain, leaf first; empty: none (a client without a certificate)
    std::filesystem::path key;   // PKCS#8 PEM, mode 0600
    openssh::Passphrase key_passphrase;
    std::vector<std::filesystem::path> ca;  // PEM trust anchors
    bool system_ca = false;                 // the system store too (ca = "system")
};

class TlsFiles {
public:
    // Reads the files now. Throws std::runtime_error naming the file.
    explicit TlsFiles(TlsFileOptions options);
    // Re-reads them all; on failure throws and keeps the current set.
    void reload();
    std::shared_ptr<const TlsCredentials> current() const;
    // A source for TlsServerOptions / TlsClientOptions; it keeps this alive.
    static TlsCredentialsSource source(std::shared_ptr<TlsFiles> files);
    // "cert /x.crt key /x.key ca /ca.crt" for logs.
    std::string name() const;

private:
    std::shared_ptr<const TlsCredentials> load() const;

    TlsFileOptions options_;
    CurrentSnapshot<TlsCredentials> current_;
};

}  // namespace authchain
