// Fuzzes the TLS server (transport/detail/tls/engine.hpp): arbitrary client
// bytes, fed in the pieces byte 0 asks for. The engine must refuse with
// AuthenticationError only, never crash or hang, and never report a
// handshake done without a client certificate (one is required).
#include <cstdint>
#include <cstdlib>

#include <authchain/auth/tls_ca.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/transport/detail/tls/engine.hpp>

using namespace authchain;

namespace {

std::shared_ptr<const TlsCredentials> server_credentials() {
    static const auto credentials = [] {
        ca::Authority authority = ca::make_authority({.name = "fuzz CA"});
        ca::Issued leaf = ca::issue(authority, {.name = "fuzz.example", .purpose = ca::Purpose::server});
        TlsCredentialsPem pem;
        pem.chain = leaf.certificate_pem;
        pem.key = leaf.key_pem;
        pem.trust_anchors.push_back(authority.certificate_pem());
        return make_tls_credentials(std::move(pem));
    }();
    return credentials;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t piece = data[0] == 0 ? size : data[0];
    auto engine = tls_detail::Engine::server({.credentials = server_credentials()});
    try {
        for (std::size_t at = 1; at < size; at += piece) {
            const std::size_t n = std::min(piece, size - at);
            engine->received(ByteView(data + at, n));
            engine->output().clear();
        }
    } catch (const AuthenticationError&) {
        return 0;
    }
    if (engine->established() && !engine->peer()) std::abort();
    return 0;
}
