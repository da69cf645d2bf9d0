// Leaf certificates of auth/tls_ca.hpp: issued with a new key, or for a CSR.
#include <arpa/inet.h>

#include <botan/data_src.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/pkcs10.h>
#include <botan/pkcs8.h>
#include <botan/x509_ext.h>
#include <botan/x509cert.h>
#include <botan/x509path.h>

#include <stdexcept>

#include <authchain/auth/tls_ca.hpp>
#include <authchain/auth/tls_ca/detail/signing.hpp>

namespace authchain::ca {

namespace {

bool is_ipv4(const std::string& text) {
    unsigned char buf[4];
    return ::inet_pton(AF_INET, text.c_str(), buf) == 1;
}

bool is_dns_name(const std::string& name) {
    if (name.empty() || name.size() > 253) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*')) return false;
    return true;
}

bool printable(const std::string& text) {
    for (char c : text)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
    return true;
}

// Extensions built here from the request alone (never from a CSR).
Botan::Extensions leaf_extensions(const Authority& ca, const LeafRequest& request,
                                  const std::vector<std::uint8_t>& public_key, const std::string& key_algo) {
    Botan::Extensions extensions;
    extensions.add(new Botan::Cert_Extension::Basic_Constraints(false), true);
    // RSA key exchange is not offered (tls.hpp), so RSA keys only sign too.
    (void)key_algo;
    extensions.add(new Botan::Cert_Extension::Key_Usage(Botan::Key_Constraints(Botan::DIGITAL_SIGNATURE)), true);
    const char* eku = request.purpose == Purpose::server ? "PKIX.ServerAuth" : "PKIX.ClientAuth";
    extensions.add(new Botan::Cert_Extension::Extended_Key_Usage({Botan::OID::from_string(eku)}));
    Botan::AlternativeName alt;
    auto dns = request.dns;
    if (request.purpose == Purpose::server && dns.empty() && request.ip.empty()) dns.push_back(request.name);
    for (const auto& d : dns) alt.add_attribute("DNS", d);
    for (const auto& i : request.ip) alt.add_attribute("IP", i);
    for (const auto& u : request.uri) alt.add_attribute("URI", u);
    if (alt.has_items()) extensions.add(new Botan::Cert_Extension::Subject_Alternative_Name(alt));
    extensions.add(new Botan::Cert_Extension::Subject_Key_ID(public_key, "SHA-256"));
    extensions.add(new Botan::Cert_Extension::Authority_Key_ID(ca.certificate().subject_key_id()));
    return extensions;
}

Botan::X509_Certificate sign_leaf(const Authority& ca, const LeafRequest& request,
                                  const std::vector<std::uint8_t>& public_key, const std::string& key_algo) {
    Botan::X509_DN subject;
    subject.add_attribute("X520.CommonName", request.name);
    const auto not_before = request.now - std::chrono::minutes(5);
    auto not_after = request.now + request.lifetime;
    // A leaf never outlives its CA.
    const auto ca_end = ca.certificate().not_after().to_std_timepoint();
    if (not_after > ca_end) not_after = ca_end;
    return detail::sign_certificate(ca.key(), public_key, ca.certificate().subject_dn(), subject,
                                    leaf_extensions(ca, request, public_key, key_algo), not_before, not_after);
}

void check(const LeafRequest& request) {
    if (auto why = leaf_request_error(request); !why.empty()) throw std::invalid_argument(why);
}

}  // namespace

std::string leaf_request_error(const LeafRequest& r) {
    if (r.name.empty()) return "a certificate needs a name";
    if (!printable(r.name) || r.name.size() > 64) return "the name must be 1 to 64 printable characters";
    if (r.lifetime.count() <= 0) return "the lifetime must be at least 1 hour";
    if (r.lifetime > r.max_lifetime)
        return "a lifetime of " + std::to_string(r.lifetime.count()) + " hours is beyond the maximum of " +
               std::to_string(r.max_lifetime.count()) + " (raise --max-hours to allow it)";
    for (const auto& d : r.dns)
        if (!is_dns_name(d)) return "\"" + d + "\" is not a DNS name";
    for (const auto& i : r.ip)
        if (!is_ipv4(i)) return "\"" + i + "\" is not an IPv4 address (Botan 2.19 encodes IPv4 only)";
    for (const auto& u : r.uri)
        if (u.empty() || !printable(u) || u.find(':') == std::string::npos) return "\"" + u + "\" is not a URI";
    if (r.purpose == Purpose::server && r.dns.empty() && r.ip.empty() && !is_dns_name(r.name))
        return "a server certificate needs --dns or --ip (the name \"" + r.name + "\" is not a DNS name)";
    return {};
}

Issued issue(const Authority& ca, const LeafRequest& request) {
    check(request);
    Botan::ECDSA_PrivateKey key(detail::rng(), Botan::EC_Group("secp256r1"));
    Issued out;
    out.name = request.name;
    out.certificate_pem = sign_leaf(ca, request, key.subject_public_key(), key.algo_name()).PEM_encode();
    std::string pem = Botan::PKCS8::PEM_encode(key);
    out.key_pem.assign(pem.begin(), pem.end());
    detail::wipe(pem);
    return out;
}

Issued sign_request(const Authority& ca, std::string_view csr_pem, LeafRequest request) {
    if (csr_pem.size() > detail::max_pem_file) throw std::invalid_argument("the CSR is too large");
    std::unique_ptr<Botan::PKCS10_Request> csr;
    std::unique_ptr<Botan::Public_Key> key;
    try {
        Botan::DataSource_Memory source(reinterpret_cast<const std::uint8_t*>(csr_pem.data()), csr_pem.size());
        csr = std::make_unique<Botan::PKCS10_Request>(source);
        key.reset(csr->subject_public_key());
    } catch (const Botan::Exception& e) {
        throw std::invalid_argument(std::string("not a certificate request: ") + e.what());
    }
    if (!csr->check_signature(*key)) throw std::invalid_argument("the CSR's signature does not verify");
    const std::string algo = key->algo_name();
    if (algo == "RSA" ? key->key_length() < 2048 : algo != "ECDSA")
        throw std::invalid_argument("the CSR's key is " + algo + " " + std::to_string(key->key_length()) +
                                    " bits: TLS here needs ECDSA or RSA of 2048 bits or more");
    if (request.name.empty()) request.name = csr->subject_dn().get_first_attribute("CN");
    check(request);
    Issued out;
    out.name = request.name;
    out.certificate_pem = sign_leaf(ca, request, key->subject_public_key(), algo).PEM_encode();
    return out;
}

bool still_valid(const Authority& ca, std::string_view certificate_pem, Clock::duration within, Clock::time_point now) {
    try {
        Botan::DataSource_Memory source(reinterpret_cast<const std::uint8_t*>(certificate_pem.data()),
                                        certificate_pem.size());
        Botan::X509_Certificate cert(source);
        Botan::Certificate_Store_In_Memory anchors(ca.certificate());
        Botan::Path_Validation_Restrictions restrictions(false, 110);
        const auto result = Botan::x509_path_validate(cert, restrictions, anchors, "", Botan::Usage_Type::UNSPECIFIED,
                                                      now + within);
        const auto at_now =
            Botan::x509_path_validate(cert, restrictions, anchors, "", Botan::Usage_Type::UNSPECIFIED, now);
        return result.successful_validation() && at_now.successful_validation();
    } catch (const Botan::Exception&) {
        return false;
    }
}

}  // namespace authchain::ca
