#include <authchain/auth/openssh/certificate_sign.hpp>

#include <authchain/auth/openssh/certificate_check.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

#include <botan/system_rng.h>

#include <algorithm>
#include <stdexcept>

namespace authchain::openssh {

namespace {

constexpr std::size_t nonce_bytes = 32;
constexpr std::uint64_t clock_skew_seconds = 60;

Bytes options_blob(std::vector<CertificateOption> options) {
    std::sort(options.begin(), options.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (std::size_t i = 1; i < options.size(); ++i)
        if (options[i].name == options[i - 1].name)
            throw std::invalid_argument("certificate option \"" + options[i].name + "\" given twice");
    WireWriter out;
    for (const auto& o : options) out.string(o.name).string(o.data);
    return out.bytes();
}

void check_text(std::string_view text, std::string_view what) {
    if (text.size() > max_certificate_text) throw std::invalid_argument(std::string(what) + " too long");
}

}  // namespace

std::vector<CertificateOption> default_user_extensions() {
    std::vector<CertificateOption> out;
    for (const char* name : {"permit-X11-forwarding", "permit-agent-forwarding", "permit-port-forwarding",
                             "permit-pty", "permit-user-rc"})
        out.push_back({name, {}});
    return out;
}

CertificateOption string_option(std::string name, std::string_view value) {
    WireWriter data;
    data.string(value);
    return {std::move(name), data.bytes()};
}

CertificateRequest certificate_request(CertificateType type, std::string key_id, std::vector<std::string> principals,
                                       std::chrono::seconds lifetime) {
    CertificateRequest r;
    r.type = type;
    r.key_id = std::move(key_id);
    r.principals = std::move(principals);
    const std::uint64_t now = certificate_now();
    r.valid_after = now - clock_skew_seconds;
    r.valid_before = now + static_cast<std::uint64_t>(lifetime.count());
    if (type == CertificateType::user) r.extensions = default_user_extensions();
    return r;
}

Certificate sign_certificate(const PublicKey& key, const CertificateRequest& request, const PrivateKey& ca) {
    check_text(request.key_id, "key id");
    if (request.principals.size() > max_certificate_principals)
        throw std::invalid_argument("too many principals");
    if (request.valid_before <= request.valid_after)
        throw std::invalid_argument("the validity window is empty (valid_before <= valid_after)");
    WireWriter principals;
    for (const auto& p : request.principals) {
        check_text(p, "principal");
        principals.string(p);
    }

    // The key's fields: its plain blob without the leading type string.
    WireReader plain(key.blob());
    plain.string();
    const ByteView key_fields = plain.raw(plain.remaining());

    const auto nonce = Botan::system_rng().random_vec(nonce_bytes);
    WireWriter out;
    out.string(key.type() + std::string(certificate_suffix))
        .string(nonce)
        .raw(key_fields)
        .u64(request.serial)
        .u32(static_cast<std::uint32_t>(request.type))
        .string(request.key_id)
        .string(principals.data())
        .u64(request.valid_after)
        .u64(request.valid_before)
        .string(options_blob(request.critical_options))
        .string(options_blob(request.extensions))
        .string(ByteView{})
        .string(ca.public_key().blob());
    const Bytes signature = ca.sign(out.bytes());
    out.string(signature);
    return Certificate::from_blob(out.bytes());
}

}  // namespace authchain::openssh
