// Shared by the TLS tests: a private CA (auth/tls_ca.hpp) with a server and
// a client certificate, credentials made from them, and the two sides of a
// handshake over the pipe (public_key_fixture.hpp's Side and handshake).
#pragma once

#include <doctest/doctest.h>

#include <array>
#include <asio/buffer.hpp>

#include <authchain/auth/tls_ca.hpp>
#include <authchain/auth/tls_files.hpp>
#include <authchain/auth/tls_peer.hpp>
#include "tests/auth/public_key_fixture.hpp"
#include <authchain/transport/tls.hpp>

namespace authchain::tls_test {

using pk_test::handshake;
using pk_test::Result;
using Clock = std::chrono::system_clock;

inline ca::LeafRequest server_leaf(std::string name = "server.example") {
    return {.name = std::move(name), .purpose = ca::Purpose::server};
}
inline ca::LeafRequest client_leaf(std::string name = "alice") {
    return {.name = std::move(name), .purpose = ca::Purpose::client};
}

inline std::shared_ptr<const TlsCredentials> credentials(const ca::Issued* leaf,
                                                         std::vector<const ca::Authority*> anchors) {
    TlsCredentialsPem pem;
    if (leaf) {
        pem.chain = leaf->certificate_pem;
        pem.key = leaf->key_pem;
    }
    for (const auto* a : anchors) pem.trust_anchors.push_back(a->certificate_pem());
    return make_tls_credentials(std::move(pem));
}

inline TlsCredentialsSource fixed(std::shared_ptr<const TlsCredentials> c) {
    return [c] { return c; };
}

// A private CA, a server and a client certificate it issued, and the layers made from them.
struct TlsFixture {
    ca::Authority authority = ca::make_authority({.name = "test CA"});
    ca::Issued server_cert = ca::issue(authority, server_leaf());
    ca::Issued client_cert = ca::issue(authority, client_leaf());

    TlsServerOptions server_options(ClientCertificate mode = ClientCertificate::required) const {
        return {.credentials = fixed(credentials(&server_cert, {&authority})), .client_certificate = mode};
    }
    client::TlsClientOptions client_options(const ca::Issued* leaf, std::string name = "server.example") const {
        return {.credentials = fixed(credentials(leaf, {&authority})), .server_name = std::move(name)};
    }
    Authenticator server(ClientCertificate mode = ClientCertificate::required) const {
        return tls(server_options(mode));
    }
    Authenticator client() const { return client::tls(client_options(&client_cert)); }
};

// The man in the middle of the relay tests: copies one way until the end,
// then half-closes; on an error closes both.
inline asio::awaitable<int> relay_one_way(Stream& from, Stream& to) {
    std::array<std::uint8_t, 4096> buf;
    try {
        for (;;) {
            std::size_t n = co_await from.read_some(asio::buffer(buf));
            if (n == 0) break;
            co_await write_all(to, asio::buffer(buf.data(), n));
        }
        co_await to.shutdown_send();
    } catch (const std::exception&) {
        from.close();
        to.close();
    }
    co_return 0;
}

}  // namespace authchain::tls_test
