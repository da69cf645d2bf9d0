// Fuzzes PublicKey::from_blob and PublicKey::verify. Input: string key blob,
// string signature blob, then the message (the rest); if the input does not
// split that way, the whole input is tried as a key blob.
#include <authchain/auth/openssh/key.hpp>
#include <authchain/auth/openssh/detail/wire.hpp>

#include <cstdint>

using namespace authchain;
using namespace authchain::openssh;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const ByteView input(data, size);
    ByteView blob = input, signature, message;
    try {
        WireReader in(input);
        blob = in.string();
        signature = in.string();
        message = in.raw(in.remaining());
    } catch (const FormatError&) {
        blob = input;
    }
    try {
        PublicKey key = PublicKey::from_blob(blob);
        (void)key.verify(message, signature);
        (void)key.fingerprint();
        (void)key.bits();
        std::string line = key.to_line("c");
        auto a = line.find(' ');
        auto b = line.find(' ', a + 1);
        if (!(PublicKey::from_base64(line.substr(0, a), line.substr(a + 1, b - a - 1)) == key)) __builtin_trap();
    } catch (const FormatError&) {
    }
    return 0;
}
