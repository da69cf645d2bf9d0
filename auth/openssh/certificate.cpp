// Certificate: the PROTOCOL.certkeys parser (pure, bounded).
#include <authchain/auth/openssh/certificate.hpp>

#include <authchain/auth/openssh/detail/key_codec.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

#include <botan/base64.h>

#include <algorithm>

namespace authchain::openssh {

namespace {

// The plain key type a certificate type certifies.
std::string plain_type_of(std::string_view cert_type) {
    if (!is_certificate_type(cert_type)) throw FormatError("not a certificate type");
    std::string plain(cert_type.substr(0, cert_type.size() - certificate_suffix.size()));
    if (plain != codec::ed25519_type && plain != codec::rsa_type && !codec::ecdsa_curve(plain))
        throw FormatError("certificate type '" + std::string(cert_type.substr(0, 64)) + "' is not supported");
    return plain;
}

std::string bounded_text(WireReader& in, std::string_view what) {
    std::string_view text = in.text();
    if (text.size() > max_certificate_text) throw FormatError("certificate " + std::string(what) + " too long");
    return std::string(text);
}

std::vector<std::string> read_principals(ByteView list) {
    std::vector<std::string> out;
    WireReader in(list);
    while (!in.empty()) {
        if (out.size() == max_certificate_principals) throw FormatError("certificate has too many principals");
        out.push_back(bounded_text(in, "principal"));
    }
    return out;
}

// A list of (string name, string data); names unique.
std::vector<CertificateOption> read_options(ByteView list, std::string_view what) {
    std::vector<CertificateOption> out;
    WireReader in(list);
    while (!in.empty()) {
        if (out.size() == max_certificate_options) throw FormatError("certificate has too many " + std::string(what));
        CertificateOption option;
        option.name = bounded_text(in, "option name");
        ByteView data = in.string();
        option.data.assign(data.begin(), data.end());
        if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.name == option.name; }))
            throw FormatError("certificate repeats the " + std::string(what) + " \"" + option.name + "\"");
        out.push_back(std::move(option));
    }
    return out;
}

}  // namespace

bool is_certificate_type(std::string_view type) {
    return type.size() > certificate_suffix.size() && type.ends_with(certificate_suffix);
}

Certificate Certificate::from_blob(ByteView blob) {
    if (blob.size() > max_certificate_blob) throw FormatError("certificate too large");
    WireReader in(blob);
    const std::string type(in.text());
    const std::string plain = plain_type_of(type);
    in.string();  // nonce

    // The key's fields, exactly as in its plain blob.
    const std::size_t key_start = blob.size() - in.remaining();
    codec::read_public(plain, in);
    const ByteView key_fields = blob.subspan(key_start, blob.size() - in.remaining() - key_start);
    WireWriter plain_blob;
    plain_blob.string(plain).raw(key_fields);
    PublicKey key = PublicKey::from_blob(plain_blob.bytes());

    const std::uint64_t serial = in.u64();
    const std::uint32_t cert_type = in.u32();
    if (cert_type != 1 && cert_type != 2) throw FormatError("certificate type is neither user nor host");
    std::string key_id = bounded_text(in, "key id");
    std::vector<std::string> principals = read_principals(in.string());
    const std::uint64_t valid_after = in.u64();
    const std::uint64_t valid_before = in.u64();
    std::vector<CertificateOption> critical = read_options(in.string(), "critical option");
    std::vector<CertificateOption> extensions = read_options(in.string(), "extension");
    in.string();  // reserved

    ByteView ca_blob = in.string();
    {
        WireReader probe(ca_blob);
        if (is_certificate_type(probe.text())) throw FormatError("the CA key of a certificate is itself a certificate");
    }
    PublicKey ca = PublicKey::from_blob(ca_blob);
    const std::size_t signed_bytes = blob.size() - in.remaining();
    ByteView signature = in.string();
    in.expect_end("certificate");
    if (signature.empty()) throw FormatError("certificate has no signature");

    Certificate cert(std::move(key), std::move(ca));
    cert.type_ = type;
    cert.blob_.assign(blob.begin(), blob.end());
    cert.signed_bytes_ = signed_bytes;
    cert.serial_ = serial;
    cert.cert_type_ = static_cast<CertificateType>(cert_type);
    cert.key_id_ = std::move(key_id);
    cert.principals_ = std::move(principals);
    cert.valid_after_ = valid_after;
    cert.valid_before_ = valid_before;
    cert.critical_options_ = std::move(critical);
    cert.extensions_ = std::move(extensions);
    cert.signature_.assign(signature.begin(), signature.end());
    return cert;
}

Certificate Certificate::from_base64(std::string_view type, std::string_view base64) {
    if (base64.size() > (max_certificate_blob / 3 + 1) * 4) throw FormatError("certificate too long");
    Botan::secure_vector<std::uint8_t> blob;
    try {
        blob = Botan::base64_decode(base64.data(), base64.size(), false);
    } catch (const Botan::Exception&) {
        throw FormatError("certificate is not valid base64");
    }
    Certificate cert = from_blob(blob);
    if (cert.type() != type)
        throw FormatError("certificate type '" + std::string(type.substr(0, 64)) + "' does not match the blob (" +
                          cert.type() + ")");
    return cert;
}

Certificate Certificate::from_line(std::string_view line) {
    auto word = [&]() {
        const auto start = line.find_first_not_of(" \t\r\n");
        if (start == std::string_view::npos) return std::string_view{};
        line.remove_prefix(start);
        const auto end = std::min(line.find_first_of(" \t\r\n"), line.size());
        std::string_view w = line.substr(0, end);
        line.remove_prefix(end);
        return w;
    };
    std::string_view type = word();
    std::string_view base64 = word();
    if (!is_certificate_type(type)) throw FormatError("not a certificate line");
    return from_base64(type, base64);
}

bool Certificate::verify_signature() const {
    return ca_.verify(ByteView(blob_).first(signed_bytes_), signature_);
}

std::string Certificate::to_line(std::string_view comment) const {
    std::string line = type_ + " " + Botan::base64_encode(blob_);
    if (!comment.empty()) line.append(" ").append(comment);
    return line;
}

std::string option_string(const CertificateOption& option) {
    WireReader in(option.data);
    std::string value(in.text());
    in.expect_end("critical option \"" + option.name + "\"");
    return value;
}

}  // namespace authchain::openssh
