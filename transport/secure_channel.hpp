// secure_channel: an encrypted, unauthenticated stream layer (Noise NN).
//
//     auto chain = secure_channel() | public_key(authorized_keys);      // server
//     auto chain = client::secure_channel() | client::public_key(key);  // client
//
// Runs the Noise_NN_25519_<cipher>_<hash> handshake (Noise revision 34)
// with one-round-trip suite negotiation, then returns the session over an
// encrypted record stream: protection() is confidential, not
// peer-authenticated, with the handshake hash as channel id. The layer adds
// `channel_id` to the credentials (proven by "secure_channel") and a note
// naming the protocol. Neither peer is authenticated here: a later layer
// must sign the channel id (public_key, psk, ...) to stop a man in the
// middle. Protocol: transport/secure_channel.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <authchain/compose/session.hpp>

namespace authchain {

// The suites this build knows, strongest-and-fastest first:
// "25519_AESGCM_SHA256", "25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA512",
// "25519_ChaChaPoly_SHA512", "25519_AESGCM_BLAKE2b", "25519_ChaChaPoly_BLAKE2b".
std::vector<std::string> secure_channel_suites();

// Why `suites` cannot configure a secure channel ("give 1 to 16 suites",
// "unknown suite \"x\" (known: ...)"), or empty when it can.
std::string secure_channel_suites_error(const std::vector<std::string>& suites);

// Which code seals and opens this process's AES-GCM records over 512 bytes,
// and why: "ipsec-mb 1.3.0 (AVX-512, VAES)" where the build has Intel's
// ipsec-mb and the CPU has AVX-512 and VAES, else "libcrypto (ipsec-mb not
// used: the CPU lacks ...)". AUTHCHAIN_AES_GCM=libcrypto in the
// environment keeps libcrypto. Both compute the same AEAD: the peer's choice
// does not matter. `authchain --version` prints it.
std::string secure_channel_aes_gcm();

struct SecureChannelOptions {
    // Preference order. The client offers them in this order; the server
    // picks the first of ITS list that the client offered. 1 to 16 names.
    std::vector<std::string> suites = secure_channel_suites();
    // The sender switches to a fresh key (a rekey record, then Noise's
    // Rekey()) after this many data records or plaintext bytes sent under
    // one key, whichever comes first. Each side applies its own limits to
    // what it sends; both must be at least 1.
    std::uint64_t rekey_after_records = std::uint64_t{1} << 20;
    std::uint64_t rekey_after_bytes = std::uint64_t{1} << 30;
};

// Server side (Noise responder). Throws std::invalid_argument for a zero
// limit, or "secure_channel: " + secure_channel_suites_error(options.suites).
// Denies with protocol_error: a peer that is not an authchain secure
// channel, no common suite, any failed handshake message. Running it on a
// session whose channel id is already proven (a second secure layer) is a
// CredentialConflict. Put it under with_timeout (the drivers do): a peer
// that stalls mid-handshake is only stopped by the deadline.
Authenticator secure_channel(SecureChannelOptions options = {});

namespace client {
// Client side (Noise initiator); same options and errors.
Authenticator secure_channel(SecureChannelOptions options = {});
}  // namespace client

}  // namespace authchain
