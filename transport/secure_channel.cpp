#include <authchain/compose/text.hpp>
#include <authchain/transport/secure_channel.hpp>

#include <algorithm>
#include <memory>
#include <stdexcept>

#include <authchain/transport/detail/noise/aes_gcm_ipsec_mb.hpp>
#include <authchain/transport/detail/noise/handshake_state.hpp>
#include <authchain/transport/detail/secure_channel/negotiation.hpp>
#include <authchain/transport/detail/secure_channel/secure_stream.hpp>

namespace authchain {

namespace {

using noise::Suite;

// The handshake buffer starts small and grows to the largest valid C1 at most.
constexpr std::size_t handshake_buffer = 4096;
constexpr std::size_t handshake_limit = channel::magic.size() + 2 + channel::max_offered_suites + channel::max_record;

struct Config {
    std::vector<Suite> suites;
    std::uint64_t rekey_after_records;
    std::uint64_t rekey_after_bytes;
};

std::shared_ptr<const Config> make_config(const SecureChannelOptions& options) {
    auto config = std::make_shared<Config>();
    if (auto why = secure_channel_suites_error(options.suites); !why.empty())
        throw std::invalid_argument("secure_channel: " + why);
    for (const auto& name : options.suites) config->suites.push_back(*noise::parse_suite(name));
    if (options.rekey_after_records == 0 || options.rekey_after_bytes == 0)
        throw std::invalid_argument("secure_channel: rekey limits must be at least 1");
    config->rekey_after_records = options.rekey_after_records;
    config->rekey_after_bytes = options.rekey_after_bytes;
    return config;
}

// Wraps the session's stream once the handshake is done and records the channel id.
Session establish(Session session, noise::HandshakeState& handshake, Suite suite, channel::ReadBuffer input,
                  const Config& config) {
    auto result = handshake.split();
    Bytes channel_id = result.handshake_hash;
    session.stream = Stream::wrap<channel::SecureStream>(
        std::move(session.stream),
        channel::ChannelState{channel::RecordEncoder(std::move(result.send)),
                              channel::RecordDecoder(std::move(result.receive)), std::move(input),
                              result.handshake_hash, suite.protocol_name(), config.rekey_after_records,
                              config.rekey_after_bytes});
    session.credentials.prove("secure_channel", &Credentials::channel_id, std::move(channel_id), "channel_id");
    session.credentials.note("secure_channel", "suite " + suite.protocol_name());
    return session;
}

void require_empty(const Botan::secure_vector<std::uint8_t>& payload, const char* what) {
    if (!payload.empty()) deny(DenyReason::protocol_error, std::string(what) + ": unexpected payload");
}

// S1/S2 side. C1 carries the offer and message 1 for the client's first
// suite; if the server prefers another offered suite it sends only its
// choice and the client restarts with C2 (see secure_channel.md).
asio::awaitable<Session> respond(Session session, std::shared_ptr<const Config> config) {
    require_side(session, ConnectionTrail::Side::server, "secure_channel");
    Stream& stream = session.stream;
    channel::ReadBuffer input(handshake_buffer, handshake_limit);
    try {
        auto hello = co_await input.read_message(stream, channel::parse_client_hello, "C1");
        const std::uint8_t chosen = channel::choose_suite(config->suites, hello.ids);
        Bytes reply = channel::encode_choice(chosen);
        if (chosen == channel::no_common_suite) {
            co_await write_all(stream, asio::buffer(reply));
            deny(DenyReason::protocol_error, "secure_channel: no common suite");
        }
        const Suite suite = *channel::suite_from_id(chosen);
        Bytes prologue, message1;
        if (chosen == hello.ids.front()) {
            prologue = channel::make_prologue(hello.offer);
            message1 = std::move(hello.message);
        } else {
            co_await write_all(stream, asio::buffer(reply));
            prologue = channel::make_prologue(hello.offer, reply);
            reply.clear();
            message1 = co_await input.read_message(stream, channel::parse_frame, "C2");
        }
        noise::HandshakeState handshake(suite, noise::Role::responder, prologue);
        require_empty(handshake.read_message(message1), "message 1");
        const Bytes framed = channel::frame(handshake.write_message({}));
        reply.insert(reply.end(), framed.begin(), framed.end());
        co_await write_all(stream, asio::buffer(reply));
        co_return establish(std::move(session), handshake, suite, std::move(input), *config);
    } catch (const noise::NoiseError& e) {
        deny(DenyReason::protocol_error, std::string("secure_channel handshake: ") + e.what());
    }
}

// C1/C2 side.
asio::awaitable<Session> initiate(Session session, std::shared_ptr<const Config> config) {
    require_side(session, ConnectionTrail::Side::client, "secure_channel");
    Stream& stream = session.stream;
    channel::ReadBuffer input(handshake_buffer, handshake_limit);
    try {
        const Bytes offer = channel::encode_offer(config->suites);
        const std::uint8_t first = channel::suite_id(config->suites.front());
        auto handshake = std::make_unique<noise::HandshakeState>(config->suites.front(), noise::Role::initiator,
                                                                 channel::make_prologue(offer));
        Bytes c1 = offer;
        const Bytes framed = channel::frame(handshake->write_message({}));
        c1.insert(c1.end(), framed.begin(), framed.end());
        co_await write_all(stream, asio::buffer(c1));

        auto hello = co_await input.read_message(
            stream, [first](ByteView b) { return channel::parse_server_hello(b, first); }, "S1");
        if (hello.chosen == channel::no_common_suite)
            deny(DenyReason::protocol_error, "secure_channel: server shares no suite");
        Suite suite = config->suites.front();
        Bytes message2;
        if (hello.message) {
            message2 = std::move(*hello.message);
        } else {
            // The server chose another suite: it must be one we offered.
            const auto it = std::find_if(config->suites.begin(), config->suites.end(),
                                         [&](const Suite& s) { return channel::suite_id(s) == hello.chosen; });
            if (it == config->suites.end())
                deny(DenyReason::protocol_error, "secure_channel: server chose a suite not offered");
            suite = *it;
            handshake = std::make_unique<noise::HandshakeState>(suite, noise::Role::initiator,
                                                                channel::make_prologue(offer, hello.choice));
            const Bytes c2 = channel::frame(handshake->write_message({}));
            co_await write_all(stream, asio::buffer(c2));
            message2 = co_await input.read_message(stream, channel::parse_frame, "S2");
        }
        require_empty(handshake->read_message(message2), "message 2");
        co_return establish(std::move(session), *handshake, suite, std::move(input), *config);
    } catch (const noise::NoiseError& e) {
        deny(DenyReason::protocol_error, std::string("secure_channel handshake: ") + e.what());
    }
}

}  // namespace

std::vector<std::string> secure_channel_suites() {
    return {"25519_AESGCM_SHA256",   "25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA512",
            "25519_ChaChaPoly_SHA512", "25519_AESGCM_BLAKE2b",  "25519_ChaChaPoly_BLAKE2b"};
}

std::string secure_channel_suites_error(const std::vector<std::string>& suites) {
    if (suites.empty() || suites.size() > channel::max_offered_suites) return "give 1 to 16 suites";
    for (const auto& name : suites) {
        if (noise::parse_suite(name)) continue;
        return "unknown suite \"" + name + "\" (known: " + join(secure_channel_suites(), ", ") + ")";
    }
    return {};
}

std::string secure_channel_aes_gcm() {
    const std::string ipsec_mb = noise::ipsec_mb::description();
    return noise::ipsec_mb::available() ? ipsec_mb : "libcrypto (ipsec-mb " + ipsec_mb + ")";
}

Authenticator secure_channel(SecureChannelOptions options) {
    auto config = make_config(options);
    return [config](Session session) { return respond(std::move(session), config); };
}

namespace client {
Authenticator secure_channel(SecureChannelOptions options) {
    auto config = make_config(options);
    return [config](Session session) { return initiate(std::move(session), config); };
}
}  // namespace client

}  // namespace authchain
