// Fuzzes the Noise NN handshake readers with fixed ephemeral keys.
// Byte 0: bits 0-2 pick the suite (mod 6), bits 3-4 the mode:
//   0: the responder reads the rest as message 1 (and answers if it can);
//   1: the initiator, after writing message 1, reads the rest as message 2;
//   2: an honest message 2 with byte [1..2] xor'ed by [3] and bytes [4..]
//      appended as payload: the initiator must refuse any change.
#include <cstdint>
#include <cstdlib>

#include <authchain/transport/detail/noise/handshake_state.hpp>

using namespace authchain;
using namespace authchain::noise;
using Botan::secure_vector;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

const secure_vector<std::uint8_t> init_e(32, 0x11), resp_e(32, 0x22);
const Bytes prologue{'f', 'u', 'z', 'z'};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    static const Suite suites[] = {{Cipher::ChaChaPoly, Hash::SHA256}, {Cipher::ChaChaPoly, Hash::SHA512},
                                   {Cipher::ChaChaPoly, Hash::BLAKE2b}, {Cipher::AESGCM, Hash::SHA256},
                                   {Cipher::AESGCM, Hash::SHA512},     {Cipher::AESGCM, Hash::BLAKE2b}};
    const Suite suite = suites[(data[0] & 7) % 6];
    const int mode = (data[0] >> 3) & 3;
    ByteView input(data + 1, size - 1);
    try {
        if (mode == 0) {
            HandshakeState resp(suite, Role::responder, prologue, resp_e);
            auto payload = resp.read_message(input);
            check(payload.size() + DHLEN == input.size());
            check(resp.write_message(payload).size() == DHLEN + payload.size() + TAGLEN);
            check(resp.finished());
        } else if (mode == 1) {
            HandshakeState init(suite, Role::initiator, prologue, init_e);
            init.write_message({});
            (void)init.read_message(input);
            check(init.finished());
        } else {
            if (input.size() < 3) return 0;
            const std::size_t pos = std::size_t{input[0]} << 8 | input[1];
            const std::uint8_t flip = input[2];
            HandshakeState init(suite, Role::initiator, prologue, init_e);
            HandshakeState resp(suite, Role::responder, prologue, resp_e);
            resp.read_message(init.write_message({}));
            Bytes m2 = resp.write_message(input.subspan(3));
            const bool changed = flip != 0 && pos < m2.size();
            if (changed) m2[pos] ^= flip;
            try {
                auto payload = init.read_message(m2);
                check(!changed);
                check(Bytes(payload.begin(), payload.end()) == Bytes(input.begin() + 3, input.end()));
                check(init.split().handshake_hash == resp.split().handshake_hash);
            } catch (const NoiseError&) {
                check(changed);
            }
        }
    } catch (const NoiseError&) {
    }
    return 0;
}
