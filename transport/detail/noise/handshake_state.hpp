// HandshakeState (Noise revision 34, section 5.3) for the one pattern this
// project uses, NN:
//
//     -> e
//     <- e, ee
//
// Both peers use ephemeral keys only: the channel is encrypted and bound to
// a handshake hash, but neither peer is authenticated (later layers do that
// and sign the handshake hash as the channel id).
#pragma once

#include <botan/secmem.h>
#include <cstdint>
#include <optional>

#include <authchain/compose/bytes.hpp>
#include <authchain/transport/detail/noise/cipher_state.hpp>
#include <authchain/transport/detail/noise/symmetric_state.hpp>
#include <authchain/transport/detail/noise/suite.hpp>
#include <authchain/transport/detail/noise/x25519.hpp>

namespace authchain::noise {

enum class Role { initiator, responder };

// What a finished handshake yields.
struct HandshakeResult {
    CipherState send;     // this peer's outgoing direction
    CipherState receive;  // this peer's incoming direction
    Bytes handshake_hash; // h after the last message: the channel binding
};

class HandshakeState {
public:
    // Initialize(NN, role, prologue): InitializeSymmetric(protocol name),
    // MixHash(prologue). `fixed_ephemeral` (32-byte X25519 secret) replaces
    // the random ephemeral key: for test vectors only.
    HandshakeState(Suite suite, Role role, ByteView prologue,
                   std::optional<Botan::secure_vector<std::uint8_t>> fixed_ephemeral = std::nullopt);

    // WriteMessage(payload): the next message of NN when it is this peer's
    // turn (initiator: message 1; responder: message 2). Throws NoiseError
    // out of turn or when the message would exceed MAX_MESSAGE.
    Bytes write_message(ByteView payload);
    // ReadMessage(message): consumes the peer's next message and returns its
    // payload. Throws NoiseError out of turn, on a message shorter than its
    // fixed part or longer than MAX_MESSAGE, on a bad tag or a degenerate
    // (all-zero) DH result. After a failure the state must be discarded.
    Botan::secure_vector<std::uint8_t> read_message(ByteView message);

    // Both messages done: split() may be called (once).
    bool finished() const noexcept { return step_ == 2; }
    bool my_turn() const noexcept;
    // Split() oriented for this role, plus GetHandshakeHash().
    HandshakeResult split();
    const Bytes& handshake_hash() const noexcept { return symmetric_.handshake_hash(); }

private:
    void generate_ephemeral();

    Role role_;
    SymmetricState symmetric_;
    std::optional<Botan::secure_vector<std::uint8_t>> fixed_ephemeral_;
    std::optional<X25519Key> e_;                       // our ephemeral
    Bytes re_;                                         // peer's ephemeral public key
    int step_ = 0;                                     // messages done
    bool split_done_ = false;
};

}  // namespace authchain::noise
