// psk, client side: S1 in, C1 out, S2 in (protocol in auth/psk.hpp).
#include <asio/buffer.hpp>
#include <stdexcept>

#include <authchain/auth/psk.hpp>
#include <authchain/auth/psk/detail/io.hpp>
#include <authchain/auth/psk/detail/messages.hpp>

namespace authchain::client {

namespace {

constexpr std::string_view psk_layer = "psk";

struct PskClientState {
    PskKey key;
    bool allow_plaintext = false;
};

asio::awaitable<Session> authenticate_psk(std::shared_ptr<const PskClientState> state, Session session) {
    require_side(session, ConnectionTrail::Side::client, "psk");
    Bytes channel_id = psk_channel_binding(session.stream, state->allow_plaintext);
    const PskKey& key = state->key;

    // S1: the server's nonce.
    PskNonce server_nonce = decode_psk_s1(co_await read_frame(session.stream, max_psk_message, "S1"));

    // C1: our key id, nonce and proof.
    PskC1 c1{.key_id = key.id, .client_nonce = fresh_psk_nonce(), .proof = {}};
    c1.proof = psk_proof(key.key, PskRole::client, channel_id, key.id, server_nonce, c1.client_nonce);
    Bytes c1_frame = encode_psk_c1(c1);
    co_await write_all(session.stream, asio::buffer(c1_frame));

    // S2: the verdict, and the server's proof.
    PskS2 s2 = decode_psk_s2(co_await read_frame(session.stream, max_psk_message, "S2"));
    if (!s2.accepted) refused_by_peer("the server refused psk key id \"" + key.id + "\"");
    PskProof expected = psk_proof(key.key, PskRole::server, channel_id, key.id, server_nonce, c1.client_nonce);
    if (!hmac_proofs_equal(expected, s2.proof))
        deny(DenyReason::denied, "the server did not prove psk key id \"" + key.id +
                                     "\" (a wrong key, or an impostor)");

    session.credentials.prove(psk_layer, &Credentials::psk_id, key.id, "psk_id");
    co_return session;
}

}  // namespace

Authenticator psk(PskClientOptions options) {
    PskKeyFile file = read_psk_key_file(options.key_file);
    const PskKey* key = options.key_id ? file.find(*options.key_id) : &file.keys.front();
    if (!key) throw std::runtime_error(options.key_file.string() + ": no key with id \"" + *options.key_id + "\"");
    auto state = std::make_shared<const PskClientState>(PskClientState{*key, options.allow_plaintext});
    return [state](Session session) { return authenticate_psk(state, std::move(session)); };
}

}  // namespace authchain::client
