// Fuzzes the decoders of the password protocol messages (P1, P2) and the
// frame header, as a peer would send them; a decoded P1 is re-encoded and
// must decode to the same fields.
#include <array>
#include <cstdint>
#include <cstdlib>

#include <authchain/auth/password/detail/messages.hpp>
#include <authchain/compose/error.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    ByteView input(data, size);
    if (size >= 4) {
        try {
            (void)frame_length({data[0], data[1], data[2], data[3]}, max_password_message, "fuzz");
        } catch (const AuthenticationError&) {
        }
    }
    try {
        PasswordLogin login = decode_p1(input);
        auto frame = encode_p1(login.channel_id, login.user,
                               std::string_view(login.password.data(), login.password.size()));
        PasswordLogin again = decode_p1(ByteView(frame.data() + 4, frame.size() - 4));
        if (again.channel_id != login.channel_id || again.user != login.user || again.password != login.password)
            std::abort();
    } catch (const AuthenticationError&) {
    }
    try {
        (void)decode_p2(input);
    } catch (const AuthenticationError&) {
    }
    return 0;
}
