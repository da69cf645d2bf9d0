// password, client side: step 0's refusals, P1 out, P2 in (protocol in
// auth/password.hpp).
#include <asio/buffer.hpp>

#include <stdexcept>

#include <authchain/auth/password.hpp>
#include <authchain/auth/password/detail/io.hpp>
#include <authchain/auth/password/detail/messages.hpp>

namespace authchain::client {

namespace {

constexpr std::string_view password_layer = "password";

// The server proved who it is on this connection: a host key found in
// known_hosts (public_key) or a checked certificate (tls).
void require_authenticated_server(const Credentials& c, bool allow_unauthenticated_server) {
    if (c.host_name.known() || c.cert_fingerprint.known() || allow_unauthenticated_server) return;
    deny(DenyReason::denied,
         "refusing to send the password: the server has not proved its identity on this connection "
         "(put public_key, or tls with a server certificate check, before password; or set "
         "allow_unauthenticated_server)");
}

asio::awaitable<Session> authenticate(std::shared_ptr<const PasswordClientOptions> options, Session session) {
    // Step 0: all refusals before the password is asked for or a byte is sent.
    require_side(session, ConnectionTrail::Side::client, "password");
    Bytes channel_id = require_password_channel_id(session.stream);
    require_confidential(session.stream, options->allow_plaintext, "refusing to send the password");
    require_authenticated_server(session.credentials, options->allow_unauthenticated_server);

    // P1, built and sent from wiped memory.
    {
        std::optional<userdb::Secret> secret;
        try {
            secret = options->password.get();
        } catch (const std::exception& e) {
            deny(DenyReason::denied, std::string("cannot get the password: ") + e.what());
        }
        if (!secret || secret->empty()) deny(DenyReason::denied, "no password to send for user \"" + options->user + "\"");
        if (secret->size() > userdb::max_password)
            deny(DenyReason::denied, "the password is longer than " + std::to_string(userdb::max_password) + " bytes");
        Botan::secure_vector<std::uint8_t> p1 =
            encode_p1(channel_id, options->user, std::string_view(secret->data(), secret->size()));
        secret.reset();
        co_await write_all(session.stream, asio::buffer(p1.data(), p1.size()));
    }

    // P2: the verdict.
    auto body = co_await read_secret_frame(session.stream, max_password_message, "P2");
    std::optional<DenyReason> verdict = decode_p2(ByteView(body.data(), body.size()));
    if (verdict == DenyReason::busy)
        deny(DenyReason::busy, "the server is busy checking other passwords (user \"" + options->user +
                                   "\"); try again later");
    if (verdict)
        refused_by_peer("the server refused the password for user \"" + options->user +
                                     "\" (wrong password or unknown user)");
    session.credentials.note(password_layer, "accepted user " + options->user);
    co_return session;
}

}  // namespace

Authenticator password(PasswordClientOptions options) {
    if (auto e = userdb::user_name_error(options.user); !e.empty())
        throw std::invalid_argument("password: user: " + e);
    auto state = std::make_shared<const PasswordClientOptions>(std::move(options));
    return [state](Session session) { return authenticate(state, std::move(session)); };
}

}  // namespace authchain::client
