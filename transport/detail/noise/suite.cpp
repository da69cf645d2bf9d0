#include <authchain/transport/detail/noise/suite.hpp>

namespace authchain::noise {

namespace {

std::string_view cipher_name(Cipher c) { return c == Cipher::AESGCM ? "AESGCM" : "ChaChaPoly"; }

std::string_view hash_name(Hash h) {
    switch (h) {
        case Hash::SHA256: return "SHA256";
        case Hash::SHA512: return "SHA512";
        case Hash::BLAKE2b: return "BLAKE2b";
    }
    return "?";
}

}  // namespace

std::string Suite::name() const {
    return "25519_" + std::string(cipher_name(cipher)) + "_" + std::string(hash_name(hash));
}

std::string Suite::protocol_name() const { return "Noise_NN_" + name(); }

std::optional<Suite> parse_suite(std::string_view name) {
    for (Cipher c : {Cipher::ChaChaPoly, Cipher::AESGCM})
        for (Hash h : {Hash::SHA256, Hash::SHA512, Hash::BLAKE2b})
            if (Suite{c, h}.name() == name) return Suite{c, h};
    return std::nullopt;
}

std::string_view botan_hash_name(Hash hash) {
    switch (hash) {
        case Hash::SHA256: return "SHA-256";
        case Hash::SHA512: return "SHA-512";
        case Hash::BLAKE2b: return "BLAKE2b(512)";
    }
    return "SHA-256";
}

std::size_t hash_length(Hash hash) { return hash == Hash::SHA256 ? 32 : 64; }

}  // namespace authchain::noise
