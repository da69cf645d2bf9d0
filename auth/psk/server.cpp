// psk, server side: S1 out, C1 in, S2 out (protocol in auth/psk.hpp).
#include <asio/buffer.hpp>
#include <utility>

#include <authchain/auth/psk.hpp>
#include <authchain/auth/psk/detail/io.hpp>
#include <authchain/auth/psk/detail/messages.hpp>

namespace authchain {

namespace {

constexpr std::string_view psk_layer = "psk";

// Checked instead of a key for an unknown id, so both cost the same work.
const Botan::secure_vector<std::uint8_t>& dummy_key() {
    static const Botan::secure_vector<std::uint8_t> key(psk_min_key_bytes, 0x5c);
    return key;
}

// Tells the client no (S2 denied), then throws; the driver sends the transport's deny.
asio::awaitable<void> refuse_psk(Stream& stream, std::string detail) {
    try {
        Bytes s2 = encode_psk_s2({.accepted = false, .proof = {}});
        co_await write_all(stream, asio::buffer(s2));
    } catch (const std::exception&) {
        // The client is gone: nothing more to tell it.
    }
    deny(DenyReason::denied, std::move(detail));
}

asio::awaitable<Session> serve(std::shared_ptr<PskKeys> keys, Session session) {
    require_side(session, ConnectionTrail::Side::server, "psk");
    Bytes channel_id = psk_channel_binding(session.stream, keys->options().allow_plaintext);
    std::shared_ptr<const PskKeyFile> keys_now = keys->current();  // one snapshot per handshake

    // S1: our nonce.
    PskNonce server_nonce = fresh_psk_nonce();
    Bytes s1 = encode_psk_s1(server_nonce);
    co_await write_all(session.stream, asio::buffer(s1));

    // C1: the client's key id, nonce and proof.
    PskC1 c1 = decode_psk_c1(co_await read_frame(session.stream, max_psk_message, "C1"));
    const PskKey* key = keys_now->find(c1.key_id);
    PskProof expected = psk_proof(key ? key->key : dummy_key(), PskRole::client, channel_id, c1.key_id,
                                  server_nonce, c1.client_nonce);
    bool proof_ok = hmac_proofs_equal(expected, c1.proof);
    if (!key) co_await refuse_psk(session.stream, "unknown psk key id \"" + c1.key_id + "\"");
    if (c1.client_nonce == server_nonce)
        co_await refuse_psk(session.stream, "psk key id \"" + c1.key_id + "\": the client sent our own nonce back");
    if (!proof_ok)
        co_await refuse_psk(session.stream, "psk key id \"" + c1.key_id +
                                            "\": proof does not verify (wrong key, or a proof replayed or "
                                            "relayed from another connection)");

    // S2: accepted, and our proof for the client.
    PskS2 s2{.accepted = true,
             .proof = psk_proof(key->key, PskRole::server, channel_id, c1.key_id, server_nonce, c1.client_nonce)};
    Bytes s2_frame = encode_psk_s2(s2);
    co_await write_all(session.stream, asio::buffer(s2_frame));

    session.credentials.prove(psk_layer, &Credentials::psk_id, c1.key_id, "psk_id");
    co_return session;
}

}  // namespace

PskKeys::PskKeys(PskServerOptions options)
    : options_(std::move(options)),
      current_(std::make_shared<const PskKeyFile>(read_psk_key_file(options_.keys))) {}

// Reading throws before anything changes.
void PskKeys::reload() { current_.replace(std::make_shared<const PskKeyFile>(read_psk_key_file(options_.keys))); }

std::shared_ptr<const PskKeyFile> PskKeys::current() const { return current_.get(); }

std::string PskKeys::name() const { return "psk: keys " + options_.keys.string(); }

Authenticator psk(std::shared_ptr<PskKeys> keys) {
    return [keys = std::move(keys)](Session session) { return serve(keys, std::move(session)); };
}

Authenticator psk(PskServerOptions options) { return psk(std::make_shared<PskKeys>(std::move(options))); }

}  // namespace authchain
