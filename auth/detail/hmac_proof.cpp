#include <authchain/auth/detail/hmac_proof.hpp>

#include <botan/mac.h>
#include <botan/mem_ops.h>

#include <authchain/auth/openssh/detail/wire.hpp>

namespace authchain {

HmacProof hmac_proof(ByteView key, std::initializer_list<ByteView> strings) {
    auto mac = Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)");
    mac->set_key(key.data(), key.size());
    openssh::WireWriter w;
    for (ByteView s : strings) w.string(s);
    mac->update(w.data());
    HmacProof out{};
    mac->final(out.data());
    return out;
}

bool hmac_proofs_equal(const HmacProof& a, const HmacProof& b) {
    return Botan::constant_time_compare(a.data(), b.data(), a.size());
}

}  // namespace authchain
