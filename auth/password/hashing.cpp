// Argon2id through Botan: new PHC strings and constant-time checks.
#include <botan/argon2.h>
#include <botan/system_rng.h>

#include <atomic>
#include <stdexcept>

#include <authchain/auth/password/user_database.hpp>

namespace authchain::userdb {

namespace {

std::atomic<std::uint64_t> verifications{0};

}  // namespace

std::string hash_password(std::string_view password, const Argon2Params& params) {
    if (auto e = params_error(params); !e.empty()) throw std::invalid_argument("Argon2id parameters: " + e);
    // Botan's order: p, M, t; y = 2 is Argon2id.
    return Botan::argon2_generate_pwhash(password.data(), password.size(), Botan::system_rng(), params.parallelism,
                                         params.memory_kib, params.iterations, 2);
}

bool verify_password(std::string_view password, const std::string& phc) {
    // Botan parses loosely and throws on some malformed input: only strings
    // parse_phc accepts reach it, with their cost bounded.
    if (!parse_phc(phc)) return false;
    ++verifications;
    try {
        return Botan::argon2_check_pwhash(password.data(), password.size(), phc);  // constant-time compare inside
    } catch (const std::exception&) {
        return false;
    }
}

std::uint64_t password_verifications() { return verifications.load(); }

}  // namespace authchain::userdb
