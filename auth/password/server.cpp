// password, server side: P1 in, a bounded Argon2id check, P2 out (protocol
// in auth/password.hpp).
#include <asio/buffer.hpp>
#include <botan/mem_ops.h>
#include <botan/hex.h>
#include <botan/system_rng.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

#include <authchain/auth/password.hpp>
#include <authchain/auth/password/detail/io.hpp>
#include <authchain/auth/password/detail/messages.hpp>

namespace authchain {

namespace {

constexpr std::string_view password_layer = "password";

// Tells the client the verdict (P2), then throws; the driver then sends the
// transport's deny.
asio::awaitable<void> refuse(Stream& stream, DenyReason reason, std::string detail) {
    try {
        Bytes p2 = encode_p2(reason);
        co_await write_all(stream, asio::buffer(p2));
    } catch (const std::exception&) {
        // The client is gone: nothing more to tell it.
    }
    deny(reason, std::move(detail));
}

bool same_channel(ByteView a, ByteView b) {
    return a.size() == b.size() && Botan::constant_time_compare(a.data(), b.data(), a.size());
}

asio::awaitable<Session> serve(std::shared_ptr<PasswordUsers> users, Session session) {
    require_side(session, ConnectionTrail::Side::server, "password");
    const PasswordServerOptions& options = users->options();
    // Step 0, before reading a byte.
    Bytes channel_id = require_password_channel_id(session.stream);
    require_confidential(session.stream, options.allow_plaintext, "password");
    std::shared_ptr<const PasswordUsers::Snapshot> users_now = users->current();

    // P1. Cheap before expensive (DESIGN rule 9): malformed, or made for
    // another channel, is refused before any hashing.
    PasswordLogin login = decode_p1(co_await read_secret_frame(session.stream, max_password_message, "P1"));
    if (!same_channel(login.channel_id, channel_id))
        deny(DenyReason::protocol_error,
             "P1 was made for another channel (relayed from another connection?), user \"" + login.user + "\"");
    const userdb::UserEntry* entry = users_now->database.find(login.user);
    // An unknown user is checked against the dummy hash: the same cost, the same path.
    std::string phc = entry ? entry->phc : users_now->dummy_hash;
    std::string prefix = "password for user \"" + login.user + "\": ";

    bool matched = false;
    {
        PasswordCheckPool& pool = *options.check_pool;
        asio::ip::address peer = session.credentials.peer ? session.credentials.peer->address()
                                                          : session.stream.remote_endpoint().address();
        std::optional<PasswordCheckPool::Slot> slot = co_await pool.acquire(options.max_check_wait, peer);
        if (!slot)
            co_await refuse(session.stream, DenyReason::busy,
                            prefix + "all " + std::to_string(pool.max_concurrent()) + " password checks busy for " +
                                std::to_string(options.max_check_wait.count()) + " ms, or " + peer.to_string() +
                                " holding its share of " + std::to_string(pool.max_per_source()));
        matched = co_await pool.verify(std::move(login.password), std::move(phc));
    }
    if (!matched || !entry)
        co_await refuse(session.stream, DenyReason::denied, prefix + (entry ? "wrong password" : "unknown user"));

    // P2: accepted.
    Bytes p2 = encode_p2(std::nullopt);
    co_await write_all(session.stream, asio::buffer(p2));
    session.credentials.prove(password_layer, &Credentials::user, login.user, "user");
    co_return session;
}

// The parameters most entries use (ties: the first in file order), or
// `fallback` when there are none.
userdb::Argon2Params usual_params(const userdb::UserDatabase& db, const userdb::Argon2Params& fallback) {
    std::vector<std::pair<userdb::Argon2Params, std::size_t>> counts;
    for (const auto& e : db.entries) {
        auto it = std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == e.params; });
        if (it == counts.end())
            counts.push_back({e.params, 1});
        else
            ++it->second;
        if (counts.size() > 64) break;  // enough to find the usual one
    }
    if (counts.empty()) return fallback;
    return std::max_element(counts.begin(), counts.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; })
        ->first;
}

// A hash of a random password nobody knows.
std::string dummy_hash(const userdb::Argon2Params& params) {
    Botan::secure_vector<std::uint8_t> random(24);
    Botan::system_rng().randomize(random.data(), random.size());
    std::string text = Botan::hex_encode(random.data(), random.size());
    std::string phc = userdb::hash_password(text, params);
    Botan::secure_scrub_memory(text.data(), text.size());
    return phc;
}

PasswordServerOptions checked(PasswordServerOptions options) {
    userdb::Argon2Params minimum{options.minimum.memory_kib, options.minimum.iterations, 1};
    if (auto e = userdb::params_error(minimum); !e.empty()) throw std::invalid_argument("password: minimum " + e);
    if (options.max_check_wait < std::chrono::milliseconds::zero())
        throw std::invalid_argument("password: negative max_check_wait");
    if (!options.check_pool) options.check_pool = std::make_shared<PasswordCheckPool>(options.max_concurrent_checks);
    return options;
}

}  // namespace

PasswordUsers::PasswordUsers(PasswordServerOptions options) : options_(checked(std::move(options))), current_(load()) {}

std::shared_ptr<const PasswordUsers::Snapshot> PasswordUsers::load() const {
    auto snapshot = std::make_shared<Snapshot>();
    snapshot->database = userdb::read_user_database(options_.users);
    userdb::Argon2Params fallback{options_.minimum.memory_kib, options_.minimum.iterations, 1};
    snapshot->dummy_hash = dummy_hash(usual_params(snapshot->database, fallback));
    snapshot->warnings = snapshot->database.warnings;
    auto weak = userdb::weak_hash_warnings(snapshot->database, options_.minimum);
    snapshot->warnings.insert(snapshot->warnings.end(), weak.begin(), weak.end());
    return snapshot;
}

void PasswordUsers::reload() { current_.replace(load()); }  // throws before anything changes

std::shared_ptr<const PasswordUsers::Snapshot> PasswordUsers::current() const { return current_.get(); }

std::vector<std::string> PasswordUsers::warnings() const { return current()->warnings; }

std::string PasswordUsers::name() const { return "password: users " + options_.users.string(); }

const PasswordServerOptions& PasswordUsers::options() const noexcept { return options_; }

Authenticator password(std::shared_ptr<PasswordUsers> users) {
    return [users = std::move(users)](Session session) { return serve(users, std::move(session)); };
}

Authenticator password(PasswordServerOptions options) {
    return password(std::make_shared<PasswordUsers>(std::move(options)));
}

}  // namespace authchain
