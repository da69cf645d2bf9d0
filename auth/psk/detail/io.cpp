#include <authchain/auth/psk/detail/io.hpp>

#include <botan/system_rng.h>

#include <array>
#include <asio/buffer.hpp>

#include <authchain/compose/error.hpp>

namespace authchain {

Bytes psk_channel_binding(const Stream& stream, bool allow_plaintext) {
    Protection p = stream.protection();
    if (p.confidential && p.channel_id.empty())
        deny(DenyReason::protocol_error,
             "psk on an encrypted stream without a channel id (" + p.transport +
                 "): a relay between two such channels could not be detected");
    if (!p.confidential && !allow_plaintext)
        deny(DenyReason::protocol_error,
             "psk on a stream that is not confidential (" + p.transport +
                 "): put secure_channel or tls before it, or set allow_plaintext");
    return p.channel_id;
}

PskNonce fresh_psk_nonce() {
    PskNonce n{};
    Botan::system_rng().randomize(n.data(), n.size());
    return n;
}

}  // namespace authchain
