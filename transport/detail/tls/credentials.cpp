#include <authchain/transport/detail/tls/credentials.hpp>

#include <botan/certstor_system.h>
#include <botan/data_src.h>
#include <botan/mem_ops.h>
#include <botan/pkcs8.h>

#include <stdexcept>

#include <authchain/transport/detail/tls/pem.hpp>

namespace authchain {

std::vector<Botan::Certificate_Store*> TlsCredentials::trust_stores() const {
    std::vector<Botan::Certificate_Store*> out;
    for (const auto& s : trust) out.push_back(s.get());
    return out;
}

namespace tls_detail {

std::vector<Botan::X509_Certificate> read_certificates(std::string_view pem) {
    std::vector<Botan::X509_Certificate> out;
    for (std::string_view block : pem_blocks(pem, {"CERTIFICATE"})) {
        try {
            Botan::DataSource_Memory source(reinterpret_cast<const std::uint8_t*>(block.data()), block.size());
            out.emplace_back(source);
        } catch (const Botan::Exception& e) {
            throw std::invalid_argument(std::string("bad certificate: ") + e.what());
        }
    }
    return out;
}

std::unique_ptr<Botan::Private_Key> read_private_key(std::string_view pem,
                                                     const Botan::secure_vector<char>* passphrase) {
    auto blocks = pem_blocks(pem, {"PRIVATE KEY", "ENCRYPTED PRIVATE KEY"});
    if (blocks.size() != 1) {
        if (pem.find("-----BEGIN EC PRIVATE KEY-----") != std::string_view::npos ||
            pem.find("-----BEGIN RSA PRIVATE KEY-----") != std::string_view::npos)
            throw std::invalid_argument(
                "a traditional (SEC1/PKCS#1) key: convert it with `openssl pkcs8 -topk8 -nocrypt`");
        throw std::invalid_argument("expected one PKCS#8 PEM private key");
    }
    const bool encrypted = blocks[0].starts_with("-----BEGIN ENCRYPTED");
    if (encrypted && !passphrase) throw std::invalid_argument("the key is encrypted and no passphrase is given");
    try {
        Botan::DataSource_Memory source(reinterpret_cast<const std::uint8_t*>(blocks[0].data()), blocks[0].size());
        if (!encrypted) return Botan::PKCS8::load_key(source);
        std::string pass(passphrase->begin(), passphrase->end());
        try {
            auto key = Botan::PKCS8::load_key(source, pass);
            Botan::secure_scrub_memory(pass.data(), pass.size());
            return key;
        } catch (...) {
            Botan::secure_scrub_memory(pass.data(), pass.size());
            throw;
        }
    } catch (const Botan::Exception& e) {
        throw std::invalid_argument(std::string("cannot read the private key: ") + e.what());
    }
}

}  // namespace tls_detail

std::shared_ptr<const TlsCredentials> make_tls_credentials(TlsCredentialsPem pem) {
    auto out = std::make_shared<TlsCredentials>();
    if (!pem.chain.empty() || !pem.key.empty()) {
        out->chain = tls_detail::read_certificates(pem.chain);
        if (out->chain.empty()) throw std::invalid_argument("no certificate in the certificate file");
        const auto* pass = pem.key_passphrase ? &*pem.key_passphrase : nullptr;
        out->key = tls_detail::read_private_key(std::string_view(pem.key.data(), pem.key.size()), pass);
        const std::string algo = out->key->algo_name();
        if (algo != "ECDSA" && algo != "RSA")
            throw std::invalid_argument("a " + algo +
                                        " key cannot be a TLS certificate key here (use ECDSA P-256 or RSA)");
        if (out->key->subject_public_key() != out->chain.front().subject_public_key_info())
            throw std::invalid_argument("the private key does not match the certificate");
    }
    if (!pem.trust_anchors.empty()) {
        auto store = std::make_shared<Botan::Certificate_Store_In_Memory>();
        for (const auto& text : pem.trust_anchors) {
            auto certs = tls_detail::read_certificates(text);
            if (certs.empty()) throw std::invalid_argument("no certificate in a CA file");
            for (auto& c : certs) store->add_certificate(c);
        }
        out->trust.push_back(std::move(store));
    }
    if (pem.system_trust_store) out->trust.push_back(std::make_shared<Botan::System_Certificate_Store>());
    return out;
}

}  // namespace authchain
