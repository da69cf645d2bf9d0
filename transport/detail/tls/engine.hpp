// The TLS engine: the one file pair that uses Botan's TLS API (a move to
// Botan 3 and TLS 1.3 touches only this). It is driven by hand: received()
// feeds bytes read from the peer, and Botan's callbacks only fill the
// output (to write to the peer) and plaintext buffers; the caller's
// coroutine does all I/O (transport/tls.cpp, tls_stream.cpp).
#pragma once

#include <botan/secmem.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <authchain/compose/bytes.hpp>
#include <authchain/transport/tls.hpp>

namespace authchain::tls_detail {

// The peer's verified leaf certificate, as the credentials carry it.
struct PeerCertificate {
    std::string subject;      // "CN=alice,O=Example"
    std::string common_name;  // "" when none
    std::string serial;       // upper-case hex
    std::string spki_sha256;  // "sha256//BASE64"
    std::vector<std::string> san;
    std::string not_after;    // "2026-11-30T16:00:00Z"
};

inline constexpr const char* channel_id_label = "EXPORTER-authchain-channel-id";
inline constexpr std::size_t channel_id_size = 32;

struct EngineSettings {
    std::shared_ptr<const TlsCredentials> credentials;
    TlsPolicy policy;
    ClientCertificate client_certificate = ClientCertificate::required;  // server
    std::string server_name;                                             // client
};

class Engine {
public:
    // The client's constructor already queues the ClientHello in output().
    static std::unique_ptr<Engine> server(EngineSettings settings);
    static std::unique_ptr<Engine> client(EngineSettings settings);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Feeds bytes from the peer. Throws AuthenticationError: denied for a
    // peer certificate that failed verification, protocol_error otherwise;
    // output() may then hold the alert to send before closing.
    void received(ByteView bytes);
    // Encrypts application data into output(). Precondition: established().
    void send(ByteView bytes);
    // Queues close_notify; idempotent.
    void close();
    // Queues a fatal access_denied alert (a later layer refused the peer).
    void send_access_denied();

    Botan::secure_vector<std::uint8_t>& output() noexcept;     // to write to the peer
    Botan::secure_vector<std::uint8_t>& plaintext() noexcept;  // application data received

    bool established() const;  // handshake done, data may flow
    bool peer_closed() const;  // the peer sent close_notify (or a fatal alert)

    // After established():
    Bytes channel_id() const;               // RFC 5705 exporter, channel_id_label
    std::string suite() const;              // "TLSv1.2 ECDHE-ECDSA-AES256-GCM-SHA384"
    std::optional<PeerCertificate> peer() const;  // only a chain that verified

private:
    struct Impl;
    explicit Engine(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace authchain::tls_detail
