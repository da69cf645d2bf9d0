// Fuzzes certificate-bearing public_key messages: a C1 (or S1) whose key
// blob is an OpenSSH certificate, with the claimed user, decoded and then
// taken as far as the server takes it before any I/O.
#include <cstdint>

#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/certificate_check.hpp>
#include <authchain/auth/public_key/detail/messages.hpp>
#include <authchain/compose/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    ByteView input(data, size);
    for (auto decode : {decode_c1, decode_s1}) {
        try {
            KeyProof proof = decode(input);
            auto cert = openssh::Certificate::from_blob(proof.key_blob);
            const auto peer = asio::ip::make_address("::1");
            if (proof.user)
                (void)openssh::user_certificate_refusal(cert, *proof.user, std::nullopt, peer, cert.valid_after());
            (void)openssh::host_certificate_refusal(cert, "gate.example", cert.valid_after());
            (void)cert.verify_signature();
            (void)cert.key().verify(
                user_cert_signed_data(input.first(size / 2), proof.key_blob, proof.user.value_or(""), proof.key_blob),
                proof.signature);
        } catch (const AuthenticationError&) {
        } catch (const openssh::FormatError&) {
        }
    }
    return 0;
}
