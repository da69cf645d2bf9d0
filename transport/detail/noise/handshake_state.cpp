#include <authchain/transport/detail/noise/handshake_state.hpp>

namespace authchain::noise {

HandshakeState::HandshakeState(Suite suite, Role role, ByteView prologue,
                               std::optional<Botan::secure_vector<std::uint8_t>> fixed_ephemeral)
    : role_(role), symmetric_(suite, suite.protocol_name()), fixed_ephemeral_(std::move(fixed_ephemeral)) {
    if (fixed_ephemeral_ && fixed_ephemeral_->size() != DHLEN)
        throw NoiseError("fixed ephemeral key must be 32 bytes");
    symmetric_.mix_hash(prologue);
}

bool HandshakeState::my_turn() const noexcept {
    // Message 1 (step 0) is the initiator's, message 2 (step 1) the responder's.
    return (step_ == 0 && role_ == Role::initiator) || (step_ == 1 && role_ == Role::responder);
}

void HandshakeState::generate_ephemeral() {
    if (fixed_ephemeral_)
        e_ = X25519Key::from_secret(*fixed_ephemeral_);
    else
        e_ = X25519Key::generate();
}

Bytes HandshakeState::write_message(ByteView payload) {
    if (!my_turn()) throw NoiseError("write_message out of turn");
    const std::size_t overhead = DHLEN + (step_ == 1 ? TAGLEN : 0);
    if (payload.size() > MAX_MESSAGE - overhead) throw NoiseError("handshake payload too long");
    Bytes message;
    message.reserve(overhead + payload.size());
    // e: a fresh ephemeral key pair; its public key is sent and hashed.
    generate_ephemeral();
    const auto& e_pub = e_->public_value();
    message.insert(message.end(), e_pub.begin(), e_pub.end());
    symmetric_.mix_hash(e_pub);
    // ee (message 2 only).
    if (step_ == 1) symmetric_.mix_key(e_->agree(re_));
    symmetric_.encrypt_and_hash(payload, message);
    ++step_;
    return message;
}

Botan::secure_vector<std::uint8_t> HandshakeState::read_message(ByteView message) {
    if (step_ > 1 || my_turn()) throw NoiseError("read_message out of turn");
    if (message.size() > MAX_MESSAGE) throw NoiseError("handshake message too long");
    const std::size_t fixed = DHLEN + (step_ == 1 ? TAGLEN : 0);
    if (message.size() < fixed) throw NoiseError("handshake message too short");
    // e: the peer's ephemeral public key.
    re_.assign(message.begin(), message.begin() + DHLEN);
    symmetric_.mix_hash(re_);
    // ee (message 2 only).
    if (step_ == 1) symmetric_.mix_key(e_->agree(re_));
    auto payload = symmetric_.decrypt_and_hash(message.subspan(DHLEN));
    ++step_;
    return payload;
}

HandshakeResult HandshakeState::split() {
    if (!finished() || split_done_) throw NoiseError("split before the handshake finished");
    split_done_ = true;
    auto [c1, c2] = symmetric_.split();
    if (role_ == Role::initiator)
        return {std::move(c1), std::move(c2), symmetric_.handshake_hash()};
    return {std::move(c2), std::move(c1), symmetric_.handshake_hash()};
}

}  // namespace authchain::noise
