// resumption: the wrapper over the pipe around public_key; every denial
// path, tickets that expire or are forgotten, scripted attackers, and the
// stores shared by threads (the messages: test_resumption_messages.cpp).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include <authchain/auth/resumption.hpp>
#include <authchain/auth/resumption/detail/io.hpp>
#include <authchain/auth/resumption/detail/messages.hpp>
#include <authchain/auth/resumption/detail/ticket_store.hpp>
#include <authchain/compose/wrapper.hpp>
#include "tests/auth/public_key_fixture.hpp"

namespace resumption_test {

using namespace authchain;
using pk_test::channel_a;
using pk_test::channel_b;
using pk_test::handshake;
using pk_test::pipe_with;
using Clock = std::chrono::steady_clock;

Bytes channel(std::uint8_t n) { return Bytes(16, n); }

// A clock a test moves by hand.
struct ManualClock {
    std::shared_ptr<std::atomic<Clock::rep>> ticks = std::make_shared<std::atomic<Clock::rep>>(0);
    std::function<Clock::time_point()> function() const {
        return [t = ticks] { return Clock::time_point(Clock::duration(t->load())); };
    }
    void advance(std::chrono::seconds s) { *ticks += std::chrono::duration_cast<Clock::duration>(s).count(); }
};

// One server and one client, each with its tickets, around public_key.
struct Pair {
    pk_test::Fixture keys;
    ManualClock server_clock, client_clock;
    std::shared_ptr<ResumptionTickets> server_tickets;
    std::shared_ptr<client::ResumptionTickets> client_tickets;

    explicit Pair(std::chrono::seconds lifetime = std::chrono::seconds(300), std::size_t max_tickets = 10'000) {
        server_tickets = std::make_shared<ResumptionTickets>(
            ResumptionOptions{.lifetime = lifetime, .max_tickets = max_tickets, .clock = server_clock.function()});
        client_tickets = std::make_shared<client::ResumptionTickets>(
            client::ResumptionOptions{.max_servers = 4, .clock = client_clock.function()});
    }
    Authenticator server(Authenticator rest = {}) const {
        return resumption(server_tickets) | (rest ? rest : keys.server());
    }
    Authenticator client(Authenticator rest = {}) const {
        return client::resumption(client_tickets) | (rest ? rest : keys.client());
    }
    pk_test::Result connect(const Bytes& channel_id) const {
        return handshake(server(), client(), pipe_with(channel_id));
    }
};

std::string why(const pk_test::Side& side) {
    return side.error ? side.error->detail() : side.failure;
}

bool logged(const Credentials& c, const std::string& layer, const std::string& fact) {
    for (const auto& p : c.log())
        if (p.layer == layer && p.fact == fact) return true;
    return false;
}

// A scripted client: R1 as given, then the verdict R2 (or R3 after a full path it cannot run).
Authenticator scripted_client(Bytes r1, std::optional<ResumptionR2>& r2) {
    return [r1, &r2](Session s) -> asio::awaitable<Session> {
        co_await write_all(s.stream, asio::buffer(r1));
        r2 = decode_resumption_r2(co_await read_frame(s.stream, max_resumption_message, "R2"));
        co_return s;
    };
}

// A client that runs the full path once and keeps what the server sent in R3.
Authenticator ticket_catcher(const pk_test::Fixture& keys, std::optional<ResumptionR3>& r3) {
    Authenticator rest = keys.client();
    return [rest, &r3](Session s) -> asio::awaitable<Session> {
        Bytes r1 = encode_resumption_r1({});
        co_await write_all(s.stream, asio::buffer(r1));
        Session done = co_await rest(std::move(s));
        r3 = decode_resumption_r3(co_await read_frame(done.stream, max_resumption_message, "R3"));
        co_return done;
    };
}

Bytes resume_r1(const TicketId& id, const ResumptionProof& proof) {
    return encode_resumption_r1({.resume = ResumptionR1::Resume{.id = id, .proof = proof}});
}


TEST_CASE("resumption: the first connection runs public_key and earns a ticket; the next skips it") {
    Pair p;
    pk_test::VerifyCounter first_verifications;
    auto full = p.connect(channel_a);
    REQUIRE_MESSAGE(full.server.credentials, why(full.server));
    REQUIRE_MESSAGE(full.client.credentials, why(full.client));
    CHECK(first_verifications.count() == 2);  // the host key at the client, the user key at the server
    CHECK(logged(*full.server.credentials, "resumption", "ticket issued"));
    CHECK(logged(*full.client.credentials, "resumption", "ticket kept"));
    CHECK(p.server_tickets->size() == 1);
    CHECK(p.client_tickets->size() == 1);

    pk_test::VerifyCounter second_verifications;
    auto second = p.connect(channel_b);
    REQUIRE_MESSAGE(second.server.credentials, why(second.server));
    REQUIRE_MESSAGE(second.client.credentials, why(second.client));
    CHECK(second_verifications.count() == 0);
    const Credentials& s = *second.server.credentials;
    CHECK(logged(s, "resumption", "resumed"));
    CHECK(authchain::resumed(s));
    CHECK_FALSE(authchain::resumed(*full.server.credentials));
    CHECK_FALSE(logged(s, "resumption", "ticket issued"));
    // The same facts, proven by the layer that proved them on the full path.
    CHECK(s.key_type == std::string("ssh-ed25519"));
    CHECK(s.key_fingerprint == p.keys.user.public_key().fingerprint());
    CHECK(s.key_comment == std::string("alice@laptop"));
    CHECK(s.key_restrictions == KeyRestrictions{});
    CHECK(logged(s, "public_key", "key_fingerprint"));
    CHECK(s.layers() == std::vector<std::string>{"transport", "resumption", "public_key"});
    const Credentials& c = *second.client.credentials;
    CHECK(logged(c, "resumption", "resumed"));
    CHECK(c.host_name == std::string("server.example"));
    CHECK(c.key_fingerprint == p.keys.host.public_key().fingerprint());
    // Tickets serve many connections until they expire.
    auto again = p.connect(channel(7));
    REQUIRE(again.server.credentials);
    CHECK(logged(*again.server.credentials, "resumption", "resumed"));
    CHECK(p.server_tickets->size() == 1);
}

TEST_CASE("resumption: an expired ticket is refused by the server and the full path runs again") {
    Pair p(std::chrono::seconds(60));
    REQUIRE(p.connect(channel_a).server.credentials);
    SUBCASE("the server's clock passes the lifetime; the client still offers the ticket") {
        p.server_clock.advance(std::chrono::seconds(60));
    }
    SUBCASE("both clocks pass it; the client no longer offers it") {
        p.server_clock.advance(std::chrono::seconds(61));
        p.client_clock.advance(std::chrono::seconds(61));
    }
    pk_test::VerifyCounter verifications;
    auto r = p.connect(channel_b);
    REQUIRE_MESSAGE(r.server.credentials, why(r.server));
    REQUIRE_MESSAGE(r.client.credentials, why(r.client));
    CHECK(verifications.count() == 2);
    CHECK_FALSE(logged(*r.server.credentials, "resumption", "resumed"));
    CHECK(logged(*r.server.credentials, "resumption", "ticket issued"));
    CHECK(r.server.credentials->key_fingerprint == p.keys.user.public_key().fingerprint());
    CHECK(p.server_tickets->size() == 1);  // the new one
    CHECK(logged(*p.connect(channel(3)).server.credentials, "resumption", "resumed"));
}

TEST_CASE("resumption: forget_all (the gate's SIGHUP) ends every ticket; a removed key then stops resuming") {
    Pair p;
    REQUIRE(p.connect(channel_a).server.credentials);
    test::write_file(p.keys.authorized_keys, "# alice removed\n", 0600);
    // Until the reload, the ticket stands for the facts public_key proved (the documented bound).
    CHECK(logged(*p.connect(channel_b).server.credentials, "resumption", "resumed"));
    p.server_tickets->forget_all();
    CHECK(p.server_tickets->size() == 0);
    auto r = p.connect(channel(3));
    CHECK_FALSE(r.server.credentials);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("not in authorized_keys"));
    CHECK(p.client_tickets->size() == 0);  // the server said unknown: forgotten
    CHECK(p.server_tickets->size() == 0);  // a refused full path earns nothing
}

TEST_CASE("resumption: a refused full path issues no ticket") {
    Pair p;
    test::write_file(p.keys.authorized_keys, "# nobody\n", 0600);
    auto r = p.connect(channel_a);
    CHECK_FALSE(r.server.credentials);
    CHECK_FALSE(r.client.credentials);
    CHECK(p.server_tickets->size() == 0);
    CHECK(p.client_tickets->size() == 0);
}

TEST_CASE("resumption: a ticket id without its secret, or a proof from another connection, is denied") {
    Pair p;
    std::optional<ResumptionR3> r3;
    auto first = handshake(p.server(), ticket_catcher(p.keys, r3), pipe_with(channel_a));
    REQUIRE_MESSAGE(first.server.credentials, why(first.server));
    REQUIRE(r3);
    TicketSecret wrong(resumption_secret_size, 0x42);
    const std::pair<const char*, ResumptionProof> attempts[] = {
        {"a guessed secret", resumption_proof(wrong, ResumptionRole::client, channel_b, r3->id)},
        {"the proof of another channel (replayed or relayed)",
         resumption_proof(r3->secret, ResumptionRole::client, channel_a, r3->id)},
        {"the server's proof reflected", resumption_proof(r3->secret, ResumptionRole::server, channel_b, r3->id)},
        {"zeros", ResumptionProof{}},
    };
    for (const auto& attempt : attempts) {
        const ResumptionProof& proof = attempt.second;
        CAPTURE(attempt.first);
        std::optional<ResumptionR2> r2;
        pk_test::VerifyCounter verifications;
        auto r = handshake(p.server(), scripted_client(resume_r1(r3->id, proof), r2), pipe_with(channel_b));
        CHECK_FALSE(r.server.credentials);
        CHECK(r.server.reason() == DenyReason::denied);
        CHECK(r.server.detail_has("proof does not verify"));
        REQUIRE(r2);
        CHECK(r2->verdict == ResumptionVerdict::denied);
        CHECK(r2->proof == ResumptionProof{});  // no proof of the server's to an unproven client
        CHECK(verifications.count() == 0);
    }
    // The right proof on this channel still resumes: a failed attempt does not burn the ticket.
    std::optional<ResumptionR2> r2;
    auto right = handshake(p.server(),
                           scripted_client(resume_r1(r3->id, resumption_proof(r3->secret, ResumptionRole::client,
                                                                              channel_b, r3->id)),
                                           r2),
                           pipe_with(channel_b));
    REQUIRE_MESSAGE(right.server.credentials, why(right.server));
    REQUIRE(r2);
    CHECK(r2->verdict == ResumptionVerdict::resumed);
    CHECK(r2->proof == resumption_proof(r3->secret, ResumptionRole::server, channel_b, r3->id));
}

TEST_CASE("resumption: an unknown ticket id gets 'unknown' and the full path") {
    Pair p;
    std::optional<ResumptionR2> r2;
    TicketId made_up{};
    made_up.fill(0x11);
    auto r = handshake(p.server(), scripted_client(resume_r1(made_up, ResumptionProof{}), r2), pipe_with(channel_a));
    REQUIRE(r2);
    CHECK(r2->verdict == ResumptionVerdict::unknown);
    // The scripted client stops there; the server went on to the full path (public_key), which fails.
    CHECK_FALSE(r.server.credentials);
}

TEST_CASE("resumption: the client refuses a server that does not prove the ticket's secret, and forgets it") {
    Pair p;
    REQUIRE(p.connect(channel_a).client.credentials);
    REQUIRE(p.client_tickets->size() == 1);
    ResumptionR2 answer;
    SUBCASE("a wrong proof") {
        answer = {.verdict = ResumptionVerdict::resumed, .proof = ResumptionProof{}};
    }
    SUBCASE("a refusal") {
        answer = {.verdict = ResumptionVerdict::denied, .proof = {}};
    }
    Authenticator impostor = [answer](Session s) -> asio::awaitable<Session> {
        auto r1 = decode_resumption_r1(co_await read_frame(s.stream, max_resumption_message, "R1"));
        REQUIRE(r1.resume);
        Bytes r2 = encode_resumption_r2(answer);
        co_await write_all(s.stream, asio::buffer(r2));
        co_return s;
    };
    auto r = handshake(impostor, p.client(), pipe_with(channel_b));
    CHECK_FALSE(r.client.credentials);
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has(answer.verdict == ResumptionVerdict::resumed ? "did not prove" : "refused"));
    CHECK(p.client_tickets->size() == 0);
}

TEST_CASE("resumption: a stream that is not confidential, or has no channel id, is refused on both sides") {
    Pair p;
    PipeOptions o;
    SUBCASE("plain") {
        o.client.protection = {.confidential = false, .peer_authenticated = false, .channel_id = {}, .transport = "tcp"};
    }
    SUBCASE("encrypted, no channel id") {
        o.client.protection = {.confidential = true, .peer_authenticated = false, .channel_id = {}, .transport = "x"};
    }
    o.server.protection = o.client.protection;
    auto r = handshake(p.server(), p.client(), o);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("put secure_channel or tls before it"));
    CHECK(r.client.reason() == DenyReason::protocol_error);
}

TEST_CASE("resumption: a layer after it that changes the stream is refused, no ticket issued") {
    Pair p;
    // Stands for a second transport: the session continues over a stream with another channel id.
    Authenticator new_transport = [](Session s) -> asio::awaitable<Session> {
        auto [mine, theirs] = make_pipe(co_await asio::this_coro::executor, pipe_with(channel_b));
        s.stream = std::move(mine);
        co_return s;
    };
    auto r = handshake(p.server(new_transport), p.client(new_transport), pipe_with(channel_a));
    CHECK(r.server.reason() == DenyReason::internal_error);
    CHECK(r.server.detail_has("after the last transport layer"));
    CHECK(r.client.reason() == DenyReason::internal_error);
    CHECK(p.server_tickets->size() == 0);
}

TEST_CASE("resumption: a chain without the layer facing one with it fails, it does not authenticate") {
    Pair p;
    SUBCASE("the client has it, the server not: public_key reads R1 for its C1") {
        auto r = handshake(p.keys.server(), p.client(), pipe_with(channel_a));
        CHECK(r.server.reason() == DenyReason::protocol_error);
        CHECK_FALSE(r.client.credentials);
    }
    SUBCASE("the server has it, a client layer that speaks first not: its message is not an R1") {
        Authenticator speaks_first = [](Session s) -> asio::awaitable<Session> {
            Bytes message = frame(Bytes{7, 7, 7});
            co_await write_all(s.stream, asio::buffer(message));
            co_await read_frame(s.stream, 64, "reply");
            co_return s;
        };
        auto r = handshake(p.server(), speaks_first, pipe_with(channel_a));
        CHECK(r.server.reason() == DenyReason::protocol_error);
        CHECK(r.server.detail_has("do both chains have a resumption layer"));
    }
    // The server has it, and a client layer that waits for the server first (public_key, psk)
    // not: both wait until the handshake deadline (timeout), as any two chains that both wait.
}

TEST_CASE("resumption: the server keeps at most max_tickets, forgetting the oldest") {
    Pair p(std::chrono::seconds(300), 2);
    std::vector<std::shared_ptr<client::ResumptionTickets>> clients;
    for (std::uint8_t i = 0; i < 3; ++i) {
        clients.push_back(std::make_shared<client::ResumptionTickets>());
        auto r = handshake(p.server(), client::resumption(clients.back()) | p.keys.client(), pipe_with(channel(i)));
        REQUIRE(r.server.credentials);
    }
    CHECK(p.server_tickets->size() == 2);
    auto resumes = [&](std::size_t i, std::uint8_t n) {
        auto r = handshake(p.server(), client::resumption(clients[i]) | p.keys.client(), pipe_with(channel(n)));
        REQUIRE(r.server.credentials);
        return logged(*r.server.credentials, "resumption", "resumed");
    };
    CHECK(resumes(2, 10));
    CHECK(resumes(1, 11));
    CHECK_FALSE(resumes(0, 12));  // forgotten: it ran the full path (and holds a new ticket now)
}

TEST_CASE("resumption: the client store keeps one ticket per server, at most max_servers") {
    ManualClock clock;
    authchain::detail::ClientTicketStore store(2, clock.function());
    auto facts = std::make_shared<const authchain::detail::KeptFacts>();
    auto r3 = [](std::uint8_t id, std::uint32_t lifetime = 100) {
        ResumptionR3 r;
        r.lifetime_seconds = lifetime;
        r.id.fill(id);
        r.secret.assign(resumption_secret_size, id);
        return r;
    };
    store.keep("a", r3(1), facts);
    clock.advance(std::chrono::seconds(1));
    store.keep("b", r3(2), facts);
    clock.advance(std::chrono::seconds(1));
    store.keep("a", r3(3), facts);  // replaces a's, and now expires after b's
    REQUIRE(store.find("a"));
    CHECK(store.find("a")->id == r3(3).id);
    store.forget("a", r3(1).id);  // an older id: a newer ticket stays
    CHECK(store.find("a"));
    store.keep("c", r3(4), facts);  // full: the one expiring first (b's) goes
    CHECK_FALSE(store.find("b"));
    CHECK(store.find("c"));
    CHECK(store.size() == 2);
    clock.advance(std::chrono::seconds(100));
    CHECK_FALSE(store.find("a"));
    CHECK(store.size() == 0);
}

TEST_CASE("resumption: options out of range are refused") {
    CHECK_THROWS_AS(ResumptionTickets({.lifetime = std::chrono::seconds(0)}), std::invalid_argument);
    CHECK_THROWS_AS(ResumptionTickets({.lifetime = std::chrono::seconds(86'401)}), std::invalid_argument);
    CHECK_THROWS_AS(ResumptionTickets({.lifetime = std::chrono::seconds(60), .max_tickets = 0}),
                    std::invalid_argument);
    CHECK_THROWS_AS(client::ResumptionTickets({.max_servers = 0}), std::invalid_argument);
    CHECK_THROWS_AS(resumption(std::shared_ptr<ResumptionTickets>{}), std::invalid_argument);
}

TEST_CASE("resumption: threads share the stores: full paths and resumptions at once") {
    Pair p;
    constexpr int threads = 4, connections = 12;
    std::atomic<int> ok{0}, resumed{0};
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t)
        workers.emplace_back([&, t] {
            for (int i = 0; i < connections; ++i) {
                auto r = p.connect(channel(static_cast<std::uint8_t>(t * connections + i + 1)));
                if (r.server.credentials && r.client.credentials) ++ok;
                if (r.server.credentials && logged(*r.server.credentials, "resumption", "resumed")) ++resumed;
            }
        });
    for (auto& w : workers) w.join();
    CHECK(ok == threads * connections);
    // Each thread's first connection may race the others to the full path; later ones resume.
    CHECK(resumed >= threads * (connections - 1));
    CHECK(p.server_tickets->size() >= 1);
    CHECK(p.server_tickets->size() <= static_cast<std::size_t>(threads));
}

}  // namespace resumption_test
