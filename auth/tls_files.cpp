#include <authchain/auth/tls_files.hpp>

#include <stdexcept>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/compose/certificate_expiry.hpp>
#include <authchain/auth/openssh/whole_file.hpp>

namespace authchain {

namespace {

constexpr std::size_t max_pem_file = 256 * 1024;

template <class Text>
Text read_checked(const std::filesystem::path& path, bool is_private) {
    auto fd = openssh::open_checked(path, is_private);
    Text out;
    switch (openssh::read_fd_bounded(fd.get(), max_pem_file, out)) {
        case openssh::ReadStatus::ok: return out;
        case openssh::ReadStatus::too_large: throw std::runtime_error(path.string() + ": larger than 256 KiB");
        default: throw std::runtime_error(path.string() + ": cannot read");
    }
}

}  // namespace

TlsFiles::TlsFiles(TlsFileOptions options) : options_(std::move(options)), current_(load()) {}

std::shared_ptr<const TlsCredentials> TlsFiles::load() const {
    TlsCredentialsPem pem;
    std::string at;
    try {
        if (!options_.cert.empty()) {
            at = options_.cert.string();
            pem.chain = read_checked<std::string>(options_.cert, false);
            at = options_.key.string();
            pem.key = read_checked<Botan::secure_vector<char>>(options_.key, true);
            if (options_.key_passphrase) pem.key_passphrase = options_.key_passphrase.get();
        }
        for (const auto& ca : options_.ca) {
            at = ca.string();
            pem.trust_anchors.push_back(read_checked<std::string>(ca, false));
        }
        at = options_.cert.empty() ? "tls" : options_.cert.string();
        pem.system_trust_store = options_.system_ca;
        auto credentials = make_tls_credentials(std::move(pem));
        // authchain_certificate_expiry_timestamp_seconds{certificate=PATH}
        if (auto not_after = certificate_not_after(*credentials))
            report_certificate_expiry(options_.cert.string(), *not_after);
        return credentials;
    } catch (const std::invalid_argument& e) {
        throw std::runtime_error(at + ": " + e.what());
    }
}

void TlsFiles::reload() { current_.replace(load()); }  // throws before anything changes

std::shared_ptr<const TlsCredentials> TlsFiles::current() const { return current_.get(); }

TlsCredentialsSource TlsFiles::source(std::shared_ptr<TlsFiles> files) {
    return [files] { return files->current(); };
}

std::string TlsFiles::name() const {
    std::string out;
    if (!options_.cert.empty()) out = "cert " + options_.cert.string() + " key " + options_.key.string();
    for (const auto& ca : options_.ca) out += (out.empty() ? "ca " : " ca ") + ca.string();
    if (options_.system_ca) out += out.empty() ? "ca system" : " ca system";
    return out;
}

}  // namespace authchain
