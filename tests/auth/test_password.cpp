#include <doctest/doctest.h>

#include <authchain/auth/failure_throttle.hpp>
#include "tests/auth/password_fixture.hpp"

using namespace authchain;
using namespace authchain::pw_test;

TEST_CASE("password: the right password proves the user") {
    PwFixture f;
    auto r = handshake(f.server(), login_client("alice", "correct horse"));
    REQUIRE_MESSAGE(r.server.credentials, r.server.failure, (r.server.error ? r.server.error->detail() : ""));
    REQUIRE_MESSAGE(r.client.credentials, r.client.failure, (r.client.error ? r.client.error->detail() : ""));
    CHECK(r.server.credentials->user == std::string("alice"));
    CHECK(r.server.credentials->layers() == std::vector<std::string>{"transport", "password"});
    CHECK(r.client.credentials->layers() == std::vector<std::string>{"transport", "public_key", "password"});
    CHECK_FALSE(r.client.credentials->user.known());  // the client proves nothing about the server here
}

TEST_CASE("password: a wrong password and an unknown user are refused alike, each after one hash") {
    PwFixture f;
    std::uint64_t before = userdb::password_verifications();
    auto wrong = handshake(f.server(), login_client("alice", "wrong horse"));
    CHECK(userdb::password_verifications() == before + 1);
    auto unknown = handshake(f.server(), login_client("mallory", "correct horse"));
    CHECK(userdb::password_verifications() == before + 2);  // the dummy hash: the same cost

    CHECK(wrong.server.reason() == DenyReason::denied);
    CHECK(unknown.server.reason() == DenyReason::denied);
    CHECK(wrong.server.error->detail() == "password for user \"alice\": wrong password");
    CHECK(unknown.server.error->detail() == "password for user \"mallory\": unknown user");
    // The client cannot tell them apart; it can tell them from a protocol error.
    CHECK(wrong.client.reason() == DenyReason::denied);
    CHECK(unknown.client.reason() == DenyReason::denied);
    CHECK(wrong.client.detail_has("wrong password or unknown user"));
    CHECK(unknown.client.detail_has("wrong password or unknown user"));
}

TEST_CASE("password: a stream that is not confidential is refused unless allow_plaintext") {
    PwFixture f;
    auto plain = pipe_with(channel_a);
    plain.client.protection.confidential = plain.server.protection.confidential = false;
    plain.client.protection.transport = plain.server.protection.transport = "tcp";

    auto options = client_options("alice", "correct horse");
    options.allow_plaintext = true;  // so the server's refusal is the one tested
    std::uint64_t before = userdb::password_verifications();
    auto r = handshake(f.server(), server_proven() | client::password(options), plain);
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("not confidential (transport \"tcp\")"));
    CHECK(r.server.detail_has("allow_plaintext"));
    CHECK(userdb::password_verifications() == before);

    auto server_options = f.server_options();
    server_options.allow_plaintext = true;
    auto allowed = handshake(password(server_options), server_proven() | client::password(options), plain);
    CHECK(allowed.server.credentials);
    CHECK(allowed.client.credentials);
}

TEST_CASE("password: the client sends nothing on a stream that is not confidential") {
    auto plain = pipe_with(channel_a);
    plain.client.protection.confidential = false;
    auto received = std::make_shared<std::size_t>(0);
    AskCounter ask;
    auto options = client_options("alice", "");
    options.password = ask.source("correct horse");
    auto r = handshake(byte_counter(received), server_proven() | client::password(options), plain);
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("refusing to send the password: the stream is not confidential"));
    CHECK(*received == 0);
    CHECK(*ask.asked == 0);
}

TEST_CASE("password: the client sends nothing to a server that proved nothing") {
    auto received = std::make_shared<std::size_t>(0);
    AskCounter ask;
    auto options = client_options("alice", "");
    options.password = ask.source("correct horse");
    auto r = handshake(byte_counter(received), client::password(options));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("the server has not proved its identity on this connection"));
    CHECK(*received == 0);    // not a byte on the wire
    CHECK(*ask.asked == 0);   // the password was not even read

    // A TLS layer's proof counts as well as public_key's.
    PwFixture f;
    Authenticator cert = [](Session s) -> asio::awaitable<Session> {
        s.credentials.prove("tls", &Credentials::cert_fingerprint, std::string("SHA256:x"), "cert_fingerprint");
        co_return s;
    };
    auto by_cert = handshake(f.server(), cert | client::password(client_options("alice", "correct horse")));
    CHECK(by_cert.server.credentials);
    CHECK(by_cert.client.credentials);

    // Opting in by name.
    auto unauthenticated = client_options("alice", "correct horse");
    unauthenticated.allow_unauthenticated_server = true;
    auto opted = handshake(f.server(), client::password(unauthenticated));
    CHECK(opted.server.credentials);
    CHECK(opted.client.credentials);
}

TEST_CASE("password: streams without a channel id are refused by both sides") {
    PwFixture f;
    PipeOptions none;
    none.client.protection.confidential = none.server.protection.confidential = true;
    auto r = handshake(f.server(), login_client("alice", "correct horse"), none);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("password needs a channel id: put secure_channel before it"));
    CHECK(r.client.reason() == DenyReason::protocol_error);
    CHECK(r.client.detail_has("password needs a channel id"));
}

TEST_CASE("password: a P1 made for another channel is refused before any hashing") {
    PwFixture f;
    std::uint64_t before = userdb::password_verifications();
    auto r = handshake(f.server(), scripted_login(p1_bytes(channel_b, "alice", "correct horse")));
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("P1 was made for another channel"));
    CHECK(userdb::password_verifications() == before);
    // The same message on its own channel passes.
    auto own = handshake(f.server(), scripted_login(p1_bytes(channel_a, "alice", "correct horse")));
    CHECK(own.server.credentials);
}

TEST_CASE("password: malformed, truncated and oversized P1 are protocol errors") {
    PwFixture f;
    std::uint64_t before = userdb::password_verifications();
    Bytes oversized{0, 0, 0x08, 0x01};  // 2049 bytes announced
    auto big = handshake(f.server(), scripted_login(oversized));
    CHECK(big.server.reason() == DenyReason::protocol_error);
    CHECK(big.server.detail_has("P1: message length 2049 out of range"));

    Bytes good = p1_bytes(channel_a, "alice", "correct horse");
    for (std::size_t cut : {0u, 3u, 4u, 100u}) {
        CAPTURE(cut);
        auto options = pipe_with(channel_a);
        options.server.faults.truncate_after = cut;
        auto r = handshake(f.server(), scripted_login(good), options);
        CHECK(r.server.reason() == DenyReason::protocol_error);
        CHECK(r.server.detail_has("P1"));
    }
    Bytes bad_user = good;
    bad_user[4 + 1 + 4 + channel_a.size() + 4] = ':';  // first byte of the user name
    auto r = handshake(f.server(), scripted_login(bad_user));
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("user name with a character"));
    CHECK(userdb::password_verifications() == before);
}

TEST_CASE("password: with every check slot taken, an attempt waits, then is refused as busy") {
    PwFixture f;
    auto pool = std::make_shared<PasswordCheckPool>(1);
    auto options = f.server_options();
    options.check_pool = pool;
    options.max_check_wait = std::chrono::milliseconds(20);
    auto users = std::make_shared<PasswordUsers>(options);

    auto held = pool->try_acquire();
    REQUIRE(held);
    std::uint64_t before = userdb::password_verifications();
    auto r = handshake(password(users), login_client("alice", "correct horse"));
    CHECK(r.server.reason() == DenyReason::busy);
    CHECK(r.server.detail_has("all 1 password checks busy for 20 ms"));
    CHECK(r.client.reason() == DenyReason::busy);  // told in-band, not a protocol error
    CHECK(r.client.detail_has("busy checking other passwords"));
    CHECK(userdb::password_verifications() == before);
    CHECK(pool->waiting() == 0);

    held.reset();
    auto after = handshake(password(users), login_client("alice", "correct horse"));
    CHECK(after.server.credentials);
    CHECK(pool->in_use() == 0);
}

TEST_CASE("password: a slot freed while an attempt waits is handed to it") {
    PwFixture f;
    auto pool = std::make_shared<PasswordCheckPool>(1);
    auto options = f.server_options();
    options.check_pool = pool;
    options.max_check_wait = std::chrono::seconds(10);
    Authenticator server = password(options);
    auto held = std::make_shared<std::optional<PasswordCheckPool::Slot>>(pool->try_acquire());
    REQUIRE(*held);
    auto r = test::run([&](asio::any_io_executor ex) -> asio::awaitable<Result> {
        auto [c, s] = make_pipe(ex, pipe_with(channel_a));
        auto release = [](std::shared_ptr<std::optional<PasswordCheckPool::Slot>> slot,
                          std::shared_ptr<PasswordCheckPool> p) -> asio::awaitable<Side> {
            for (int i = 0; i < 500 && p->waiting() == 0; ++i) co_await test::sleep_for(std::chrono::milliseconds(2));
            slot->reset();
            co_return Side{};
        };
        auto [server_side, client_side, ignored] =
            co_await (side(server, std::move(s)) && side(login_client("alice", "correct horse"), std::move(c)) &&
                      release(held, pool));
        co_return Result{std::move(server_side), std::move(client_side)};
    });
    CHECK(r.server.credentials);
    CHECK(r.client.credentials);
    CHECK(pool->in_use() == 0);
}

TEST_CASE("password: failed attempts count in failure_throttle; a blocked source costs no hash") {
    PwFixture f;
    Authenticator chain = failure_throttle(FailureThrottleOptions{.max_failures = 3}, f.server());
    for (int i = 0; i < 3; ++i) {
        auto r = handshake(chain, login_client("alice", "guess " + std::to_string(i)));
        CHECK(r.server.reason() == DenyReason::denied);
    }
    std::uint64_t before = userdb::password_verifications();
    auto blocked = handshake(chain, login_client("alice", "correct horse"));
    CHECK(blocked.server.reason() == DenyReason::host_blocked);
    CHECK(userdb::password_verifications() == before);
    // Another source is not affected.
    auto other = pipe_with(channel_a);
    other.client.endpoint = {asio::ip::make_address("127.0.0.2"), 40000};
    CHECK(handshake(chain, login_client("alice", "correct horse"), other).server.credentials);
}

TEST_CASE("password: a busy refusal does not count as a failure") {
    PwFixture f;
    auto pool = std::make_shared<PasswordCheckPool>(1);
    auto options = f.server_options();
    options.check_pool = pool;
    options.max_check_wait = std::chrono::milliseconds(0);
    Authenticator chain = failure_throttle(FailureThrottleOptions{.max_failures = 2}, password(options));
    {
        auto held = pool->try_acquire();
        for (int i = 0; i < 3; ++i) CHECK(handshake(chain, login_client("alice", "x")).server.reason() == DenyReason::busy);
    }
    CHECK(handshake(chain, login_client("alice", "correct horse")).server.credentials);
}

TEST_CASE("password: reload swaps the database; a failed reload keeps the old one") {
    PwFixture f;
    auto users = std::make_shared<PasswordUsers>(f.server_options());
    Authenticator server = password(users);

    // Refused mode (readable by others): the reload throws, the old file stays in use.
    std::filesystem::permissions(f.users, std::filesystem::perms(0644));
    std::string why;
    try {
        users->reload();
    } catch (const std::runtime_error& e) {
        why = e.what();
    }
    CHECK(why.find("are too open") != std::string::npos);
    CHECK(handshake(server, login_client("alice", "correct horse")).server.credentials);
    // Gone: the same.
    std::filesystem::remove(f.users);
    CHECK_THROWS(users->reload());
    CHECK(handshake(server, login_client("alice", "correct horse")).server.credentials);

    test::write_file(f.users, "alice:" + userdb::hash_password("new horse", quick) + "\n", 0600);
    users->reload();
    CHECK(handshake(server, login_client("alice", "new horse")).server.credentials);
    auto old = handshake(server, login_client("alice", "correct horse"));
    CHECK(old.server.reason() == DenyReason::denied);
    auto bob = handshake(server, login_client("bob", "battery staple"));
    CHECK(bob.server.detail_has("unknown user"));
}

TEST_CASE("password: weak hashes and skipped lines are reported, weak ones still accepted") {
    PwFixture f;
    test::write_file(f.users,
                     "alice:" + userdb::hash_password("correct horse", quick) + "\n"
                     "broken line\n"
                     "carol:$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA\n",
                     0600);
    auto options = f.server_options();
    options.minimum = userdb::owasp_argon2id;
    auto users = std::make_shared<PasswordUsers>(options);
    auto w = users->warnings();
    REQUIRE(w.size() == 3);
    CHECK(w[0].find("users:2: expected user:hash; line skipped") != std::string::npos);
    CHECK(w[1].find("users:3: user \"carol\": algorithm \"argon2i\" is not argon2id") != std::string::npos);
    CHECK(w[2].find("users:1: user \"alice\": m=64 KiB, t=1, p=1 is weaker than the minimum m=19456 KiB, t=2") !=
          std::string::npos);
    CHECK(handshake(password(users), login_client("alice", "correct horse")).server.credentials);
}

TEST_CASE("password: the unknown-user dummy hash has the parameters most users have") {
    PwFixture f;
    PasswordUsers users(f.server_options());
    auto params = userdb::parse_phc(users.current()->dummy_hash);
    REQUIRE(params);
    CHECK(*params == quick);
}

TEST_CASE("password: behind secure_channel-like protection, after a real public_key exchange") {
    Fixture keys;
    PwFixture f;
    Authenticator server = keys.server() | f.server();
    Authenticator cli = keys.client() | client::password(client_options("alice", "correct horse"));
    auto r = handshake(server, cli);
    REQUIRE_MESSAGE(r.server.credentials, (r.server.error ? r.server.error->detail() : r.server.failure));
    CHECK(r.server.credentials->user == std::string("alice"));
    CHECK(r.server.credentials->key_fingerprint == keys.user.public_key().fingerprint());
    CHECK(r.client.credentials->host_name == std::string("server.example"));
}

TEST_CASE("password: the client refuses a bad user name at build and a missing password at run") {
    CHECK_THROWS_AS(client::password(client_options("al ice", "x")), std::invalid_argument);
    CHECK_THROWS_AS(client::password(client_options("", "x")), std::invalid_argument);
    auto received = std::make_shared<std::size_t>(0);
    auto options = client_options("alice", "");
    options.password = {};
    auto r = handshake(byte_counter(received), server_proven() | client::password(options));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("no password to send for user \"alice\""));
    CHECK(*received == 0);
}

TEST_CASE("password: the server's options are checked at build") {
    PwFixture f;
    auto options = f.server_options();
    options.max_concurrent_checks = 0;
    CHECK_THROWS_AS(PasswordUsers{options}, std::invalid_argument);
    options = f.server_options();
    options.users = f.dir / "missing";
    CHECK_THROWS_AS(PasswordUsers{options}, std::runtime_error);
}
