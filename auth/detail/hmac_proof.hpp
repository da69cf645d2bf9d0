// The proofs psk and resumption exchange: HMAC-SHA256 over a list of SSH
// wire strings (uint32 length || bytes, each), compared in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>

#include <authchain/compose/bytes.hpp>

namespace authchain {

inline constexpr std::size_t hmac_proof_size = 32;  // HMAC-SHA256
using HmacProof = std::array<std::uint8_t, hmac_proof_size>;

// HMAC-SHA256(key, string s1 || string s2 || ...).
HmacProof hmac_proof(ByteView key, std::initializer_list<ByteView> strings);

// Constant-time equality of two proofs.
bool hmac_proofs_equal(const HmacProof& a, const HmacProof& b);

}  // namespace authchain
