// Fuzzes the OpenSSH certificate parser (auth/openssh/certificate.hpp) and
// what the gate and the client do next with what it returns: the checks,
// then the CA signature.
#include <cstdint>

#include <authchain/auth/openssh/certificate.hpp>
#include <authchain/auth/openssh/certificate_check.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    try {
        auto cert = openssh::Certificate::from_blob(ByteView(data, size));
        const auto peer = asio::ip::make_address("192.0.2.1");
        (void)openssh::user_certificate_refusal(cert, "alice", std::nullopt, peer, cert.valid_after());
        (void)openssh::user_certificate_refusal(cert, "alice", std::vector<std::string>{"ops"}, peer, 0);
        (void)openssh::host_certificate_refusal(cert, "gate.example", cert.valid_after());
        (void)cert.verify_signature();
        (void)openssh::Certificate::from_line(cert.to_line("c"));
    } catch (const openssh::FormatError&) {
    }
    return 0;
}
