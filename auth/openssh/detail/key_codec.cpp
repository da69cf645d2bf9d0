#include <authchain/auth/openssh/detail/key_codec.hpp>
#include <authchain/auth/openssh/detail/ed25519.hpp>

#include <botan/bigint.h>
#include <botan/ec_group.h>
#include <botan/ecdsa.h>
#include <botan/ed25519.h>
#include <botan/rsa.h>
#include <botan/system_rng.h>

#include <array>

namespace authchain::openssh::codec {

namespace {

constexpr std::array<EcdsaCurve, 3> curves{{
    {"ecdsa-sha2-nistp256", "nistp256", "secp256r1", "EMSA1(SHA-256)", 32, 256},
    {"ecdsa-sha2-nistp384", "nistp384", "secp384r1", "EMSA1(SHA-384)", 48, 384},
    {"ecdsa-sha2-nistp521", "nistp521", "secp521r1", "EMSA1(SHA-512)", 66, 521},
}};

const EcdsaCurve* curve_of_group(const Botan::EC_Group& group) {
    for (const auto& c : curves)
        if (ecdsa_group(c) == group) return &c;
    return nullptr;
}

Botan::BigInt to_bigint(ByteView magnitude) { return Botan::BigInt(magnitude.data(), magnitude.size()); }

void write_bigint(WireWriter& out, const Botan::BigInt& n) {
    auto bytes = Botan::BigInt::encode_locked(n);
    out.mpint(bytes);
}

// 0x04 || x || y, each scalar_bytes long.
Botan::PointGFp read_point(const EcdsaCurve& c, ByteView q) {
    if (q.size() != 1 + 2 * c.scalar_bytes || q[0] != 0x04)
        throw FormatError("ECDSA public point is not an uncompressed " + std::string(c.curve) + " point");
    try {
        Botan::PointGFp point = ecdsa_group(c).OS2ECP(q.data(), q.size());
        if (point.is_zero() || !point.on_the_curve()) throw FormatError("ECDSA public point is invalid");
        return point;
    } catch (const Botan::Exception&) {
        throw FormatError("ECDSA public point is not on " + std::string(c.curve));
    }
}

const EcdsaCurve& read_curve_name(std::string_view type, WireReader& in) {
    const EcdsaCurve* c = ecdsa_curve(type);
    if (in.text() != c->curve) throw FormatError("ECDSA curve name does not match " + std::string(c->curve));
    return *c;
}

void check_scalar(const EcdsaCurve& c, const Botan::BigInt& d) {
    if (d.is_zero() || d >= ecdsa_group(c).get_order()) throw FormatError("ECDSA private scalar out of range");
}

void check_rsa_public(const Botan::BigInt& n, const Botan::BigInt& e) {
    if (n.bits() < rsa_min_bits || n.bits() > rsa_max_bits)
        throw FormatError("RSA modulus of " + std::to_string(n.bits()) + " bits is outside " +
                          std::to_string(rsa_min_bits) + ".." + std::to_string(rsa_max_bits));
    if (e.bits() > rsa_max_exponent_bits || e < 3 || e.is_even())
        throw FormatError("RSA public exponent is not odd and in 3..2^" + std::to_string(rsa_max_exponent_bits) +
                          "-1");
    if (n.is_even() || e >= n) throw FormatError("RSA public key is invalid");
}

void check_rsa_private(const Botan::BigInt& n, const Botan::BigInt& e, const Botan::BigInt& d,
                       const Botan::BigInt& p, const Botan::BigInt& q) {
    check_rsa_public(n, e);
    if (p < 3 || q < 3 || p * q != n || d < 2 || d >= n) throw FormatError("RSA private key is inconsistent");
    const Botan::BigInt ed = e * d;
    if (ed % (p - 1) != 1 || ed % (q - 1) != 1) throw FormatError("RSA private exponent is inconsistent");
}

}  // namespace

FormatError unsupported_type(std::string_view type) {
    return FormatError("key type '" + std::string(type.substr(0, 64)) +
                       "' is not supported (supported: ssh-ed25519, ecdsa-sha2-nistp256, ecdsa-sha2-nistp384, "
                       "ecdsa-sha2-nistp521, ssh-rsa)");
}

const EcdsaCurve* ecdsa_curve(std::string_view type) {
    for (const auto& c : curves)
        if (c.type == type) return &c;
    return nullptr;
}

const EcdsaCurve* ecdsa_curve_of_bits(std::size_t bits) {
    for (const auto& c : curves)
        if (c.bits == bits) return &c;
    return nullptr;
}

const Botan::EC_Group& ecdsa_group(const EcdsaCurve& curve) {
    static const std::array<Botan::EC_Group, 3> groups{Botan::EC_Group(std::string(curves[0].botan_group)),
                                                       Botan::EC_Group(std::string(curves[1].botan_group)),
                                                       Botan::EC_Group(std::string(curves[2].botan_group))};
    return groups[static_cast<std::size_t>(&curve - curves.data())];
}

std::string ssh_type(const Botan::Public_Key& key) {
    const std::string algo = key.algo_name();
    if (algo == "Ed25519") return std::string(ed25519_type);
    if (algo == "ECDSA") {
        const auto& ec = dynamic_cast<const Botan::EC_PublicKey&>(key);
        const EcdsaCurve* c = curve_of_group(ec.domain());
        if (!c) throw FormatError("ECDSA keys are supported on nistp256, nistp384 and nistp521 only");
        return std::string(c->type);
    }
    if (algo == "RSA") {
        const auto& rsa = dynamic_cast<const Botan::RSA_PublicKey&>(key);
        check_rsa_public(rsa.get_n(), rsa.get_e());
        return std::string(rsa_type);
    }
    throw FormatError("unsupported key algorithm " + algo + " (supported: Ed25519, ECDSA P-256/384/521, RSA)");
}

Bytes public_blob(const Botan::Public_Key& key) {
    const std::string type = ssh_type(key);
    WireWriter out;
    out.string(type);
    if (type == ed25519_type) {
        out.string(dynamic_cast<const Botan::Ed25519_PublicKey&>(key).get_public_key());
    } else if (const EcdsaCurve* c = ecdsa_curve(type)) {
        const auto& ec = dynamic_cast<const Botan::EC_PublicKey&>(key);
        out.string(c->curve).string(ec.public_point().encode(Botan::PointGFp::UNCOMPRESSED));
    } else {
        const auto& rsa = dynamic_cast<const Botan::RSA_PublicKey&>(key);
        write_bigint(out, rsa.get_e());
        write_bigint(out, rsa.get_n());
    }
    return out.bytes();
}

ByteView ed25519_key_bytes(ByteView blob) {
    WireReader in(blob);
    if (in.text() != ed25519_type) throw FormatError("not an ssh-ed25519 key");
    ByteView pk = in.string();
    in.expect_end("public key");
    if (pk.size() != ed25519_public_bytes) throw FormatError("Ed25519 public key is not 32 bytes");
    return pk;
}

std::unique_ptr<Botan::Public_Key> read_public(std::string_view type, WireReader& in) {
    if (type == ed25519_type) {
        ByteView pk = in.string();
        if (pk.size() != ed25519_public_bytes) throw FormatError("Ed25519 public key is not 32 bytes");
        return std::make_unique<Botan::Ed25519_PublicKey>(pk.data(), pk.size());
    }
    if (ecdsa_curve(type)) {
        const EcdsaCurve& c = read_curve_name(type, in);
        return std::make_unique<Botan::ECDSA_PublicKey>(ecdsa_group(c), read_point(c, in.string()));
    }
    if (type == rsa_type) {
        Botan::BigInt e = to_bigint(in.mpint(max_mpint_bytes));
        Botan::BigInt n = to_bigint(in.mpint(max_mpint_bytes));
        check_rsa_public(n, e);
        return std::make_unique<Botan::RSA_PublicKey>(n, e);
    }
    throw unsupported_type(type);
}

std::unique_ptr<Botan::Private_Key> read_private(std::string_view type, WireReader& in) {
    if (type == ed25519_type) {
        ByteView pk = in.string();
        ByteView sk = in.string();
        if (pk.size() != ed25519_public_bytes || sk.size() != ed25519_private_bytes)
            throw FormatError("Ed25519 private key has wrong field sizes");
        Botan::secure_vector<std::uint8_t> seed(sk.begin(), sk.begin() + 32);
        auto key = std::make_unique<Botan::Ed25519_PrivateKey>(seed);
        const auto& derived = key->get_public_key();
        if (!std::equal(derived.begin(), derived.end(), pk.begin()) ||
            !std::equal(derived.begin(), derived.end(), sk.begin() + 32))
            throw FormatError("Ed25519 private key does not match its public key");
        return key;
    }
    if (ecdsa_curve(type)) {
        const EcdsaCurve& c = read_curve_name(type, in);
        Botan::PointGFp q = read_point(c, in.string());
        Botan::BigInt d = to_bigint(in.mpint(c.scalar_bytes));
        check_scalar(c, d);
        auto key = std::make_unique<Botan::ECDSA_PrivateKey>(Botan::system_rng(), ecdsa_group(c), d);
        if (key->public_point() != q) throw FormatError("ECDSA private key does not match its public key");
        return key;
    }
    if (type == rsa_type) {
        Botan::BigInt n = to_bigint(in.mpint(max_mpint_bytes));
        Botan::BigInt e = to_bigint(in.mpint(max_mpint_bytes));
        Botan::BigInt d = to_bigint(in.mpint(max_mpint_bytes));
        in.mpint(max_mpint_bytes);  // iqmp: recomputed by Botan
        Botan::BigInt p = to_bigint(in.mpint(max_mpint_bytes));
        Botan::BigInt q = to_bigint(in.mpint(max_mpint_bytes));
        check_rsa_private(n, e, d, p, q);
        try {
            return std::make_unique<Botan::RSA_PrivateKey>(p, q, e, d, n);
        } catch (const Botan::Exception&) {
            throw FormatError("RSA private key is invalid");
        }
    }
    throw unsupported_type(type);
}

void check_private(const Botan::Private_Key& key) {
    const std::string type = ssh_type(key);
    if (type == ed25519_type) {
        const auto& ed = dynamic_cast<const Botan::Ed25519_PrivateKey&>(key);
        const auto& pub = ed.get_public_key();
        const auto& priv = ed.get_private_key();
        if (pub.size() != ed25519_public_bytes || priv.size() != ed25519_private_bytes ||
            !std::equal(pub.begin(), pub.end(), priv.begin() + 32))
            throw FormatError("Ed25519 private key is inconsistent");
    } else if (const EcdsaCurve* c = ecdsa_curve(type)) {
        const auto& ec = dynamic_cast<const Botan::ECDSA_PrivateKey&>(key);
        const Botan::BigInt& d = ec.private_value();
        check_scalar(*c, d);
        std::vector<Botan::BigInt> ws;
        if (ecdsa_group(*c).blinded_base_point_multiply(d, Botan::system_rng(), ws) != ec.public_point())
            throw FormatError("ECDSA private key does not match its public key");
    } else {
        const auto& rsa = dynamic_cast<const Botan::RSA_PrivateKey&>(key);
        check_rsa_private(rsa.get_n(), rsa.get_e(), rsa.get_d(), rsa.get_p(), rsa.get_q());
    }
}

void write_private(const Botan::Private_Key& key, WireWriter& out) {
    const std::string type = ssh_type(key);
    out.string(type);
    if (type == ed25519_type) {
        const auto& ed = dynamic_cast<const Botan::Ed25519_PrivateKey&>(key);
        out.string(ed.get_public_key()).string(ed.get_private_key());
    } else if (const EcdsaCurve* c = ecdsa_curve(type)) {
        const auto& ec = dynamic_cast<const Botan::ECDSA_PrivateKey&>(key);
        out.string(c->curve).string(ec.public_point().encode(Botan::PointGFp::UNCOMPRESSED));
        write_bigint(out, ec.private_value());
    } else {
        const auto& rsa = dynamic_cast<const Botan::RSA_PrivateKey&>(key);
        write_bigint(out, rsa.get_n());
        write_bigint(out, rsa.get_e());
        write_bigint(out, rsa.get_d());
        write_bigint(out, rsa.get_c());  // iqmp = q^-1 mod p
        write_bigint(out, rsa.get_p());
        write_bigint(out, rsa.get_q());
    }
}

}  // namespace authchain::openssh::codec
