// The CA of auth/tls_ca.hpp: made, written, loaded.
#include <sys/stat.h>

#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs8.h>
#include <botan/pubkey.h>
#include <botan/system_rng.h>
#include <botan/x509_ca.h>
#include <botan/x509_ext.h>
#include <botan/x509cert.h>

#include <stdexcept>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/whole_file.hpp>
#include <authchain/auth/tls_ca.hpp>
#include <authchain/auth/tls_ca/detail/signing.hpp>

namespace authchain::ca {

Authority::Authority(std::unique_ptr<Botan::X509_Certificate> cert, std::unique_ptr<Botan::Private_Key> key)
    : cert_(std::move(cert)), key_(std::move(key)) {}
Authority::Authority(Authority&&) noexcept = default;
Authority::~Authority() = default;

std::string Authority::certificate_pem() const { return cert_->PEM_encode(); }

Authority make_authority(const AuthorityOptions& options) {
    if (options.name.empty()) throw std::invalid_argument("the CA needs a name");
    auto& rng = detail::rng();
    auto key = std::make_unique<Botan::ECDSA_PrivateKey>(rng, Botan::EC_Group("secp256r1"));
    Botan::X509_DN dn;
    dn.add_attribute("X520.CommonName", options.name);
    Botan::Extensions extensions;
    extensions.add(new Botan::Cert_Extension::Basic_Constraints(true, 0), true);
    extensions.add(new Botan::Cert_Extension::Key_Usage(
                       Botan::Key_Constraints(Botan::KEY_CERT_SIGN | Botan::CRL_SIGN)),
                   true);
    extensions.add(new Botan::Cert_Extension::Subject_Key_ID(key->subject_public_key(), "SHA-256"));
    auto cert = detail::sign_certificate(*key, key->subject_public_key(), dn, dn, extensions,
                                         options.now - std::chrono::minutes(5), options.now + options.lifetime);
    return Authority(std::make_unique<Botan::X509_Certificate>(std::move(cert)), std::move(key));
}

void init_authority(const std::filesystem::path& dir, const AuthorityOptions& options) {
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
        if (::mkdir(dir.c_str(), 0700) != 0)
            throw std::system_error(errno, std::generic_category(), "cannot create " + dir.string());
    }
    openssh::check_safe_directories(dir);
    for (const char* file : {"ca.key", "ca.crt"})
        if (std::filesystem::exists(dir / file, ec))
            throw std::runtime_error((dir / file).string() + " exists: this directory already holds a CA");
    Authority ca = make_authority(options);
    std::string key_pem = Botan::PKCS8::PEM_encode(ca.key());
    try {
        openssh::write_file_atomically(dir / "ca.key", key_pem, 0600);
    } catch (...) {
        detail::wipe(key_pem);
        throw;
    }
    detail::wipe(key_pem);
    openssh::write_file_atomically(dir / "ca.crt", ca.certificate_pem(), 0644);
}

Authority load_authority(const std::filesystem::path& dir) {
    const auto cert_path = dir / "ca.crt", key_path = dir / "ca.key";
    std::string cert_pem;
    Botan::secure_vector<char> key_pem;
    {
        auto fd = openssh::open_checked(cert_path, false);
        if (openssh::read_fd_bounded(fd.get(), detail::max_pem_file, cert_pem) != openssh::ReadStatus::ok)
            throw std::runtime_error("cannot read " + cert_path.string());
    }
    {
        auto fd = openssh::open_checked(key_path, true);
        if (openssh::read_fd_bounded(fd.get(), detail::max_pem_file, key_pem) != openssh::ReadStatus::ok)
            throw std::runtime_error("cannot read " + key_path.string());
    }
    std::unique_ptr<Botan::X509_Certificate> cert;
    std::unique_ptr<Botan::Private_Key> key;
    try {
        Botan::DataSource_Memory cert_source(cert_pem);
        cert = std::make_unique<Botan::X509_Certificate>(cert_source);
        Botan::DataSource_Memory key_source(reinterpret_cast<const std::uint8_t*>(key_pem.data()), key_pem.size());
        key = Botan::PKCS8::load_key(key_source);
    } catch (const Botan::Exception& e) {
        throw std::runtime_error(dir.string() + ": not a CA made by `authchain ca init`: " + e.what());
    }
    if (!cert->is_CA_cert()) throw std::runtime_error(cert_path.string() + ": not a CA certificate");
    if (key->subject_public_key() != cert->subject_public_key_info())
        throw std::runtime_error(key_path.string() + " does not match " + cert_path.string());
    return Authority(std::move(cert), std::move(key));
}

void write_issued(const std::filesystem::path& dir, const std::string& name, const Issued& issued) {
    if (name.empty() || name.find('/') != std::string::npos || name.starts_with("."))
        throw std::invalid_argument("\"" + name + "\" cannot be a file name");
    openssh::check_safe_directories(dir);
    if (!issued.key_pem.empty())
        openssh::write_file_atomically(dir / (name + ".key"),
                                       std::string_view(issued.key_pem.data(), issued.key_pem.size()), 0600);
    openssh::write_file_atomically(dir / (name + ".crt"), issued.certificate_pem, 0644);
}

}  // namespace authchain::ca
