#include <doctest/doctest.h>

#include <sys/stat.h>

#include <authchain/auth/openssh/known_hosts.hpp>
#include "tests/auth/public_key_fixture.hpp"

using namespace authchain;
using namespace authchain::pk_test;

TEST_CASE("public_key: the client refuses a changed host key") {
    Fixture f;
    PrivateKey other = PrivateKey::generate_ed25519();
    test::write_file(f.known_hosts, "server.example " + other.public_key().to_line() + "\n", 0600);
    auto r = handshake(f.server(), f.client());
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("REMOTE HOST IDENTIFICATION HAS CHANGED"));
    CHECK(r.client.detail_has(f.host.public_key().fingerprint()));
    CHECK_FALSE(r.server.credentials);
    CHECK(r.server.reason() == DenyReason::protocol_error);  // the client hung up before C1
}

TEST_CASE("public_key: unknown host, strict vs accept-new") {
    Fixture f;
    test::write_file(f.known_hosts, "# nothing yet\n", 0600);
    auto strict = handshake(f.server(), f.client(true));
    CHECK(strict.client.reason() == DenyReason::denied);
    CHECK(strict.client.detail_has("is not in"));
    CHECK(test::read_file(f.known_hosts) == "# nothing yet\n");

    auto tofu = handshake(f.server(), f.client(false));
    REQUIRE(tofu.client.credentials);
    REQUIRE(tofu.server.credentials);
    CHECK(test::read_file(f.known_hosts) == "# nothing yet\nserver.example " + f.host.public_key().to_line() + "\n");

    // Now known: strict accepts it.
    auto again = handshake(f.server(), f.client(true));
    CHECK(again.client.credentials);

    // accept-new never overrides a change.
    PrivateKey other = PrivateKey::generate_ed25519();
    test::write_file(f.known_hosts, "server.example " + other.public_key().to_line() + "\n", 0600);
    auto changed = handshake(f.server(), f.client(false));
    CHECK(changed.client.detail_has("REMOTE HOST IDENTIFICATION HAS CHANGED"));
}

TEST_CASE("public_key: accept-new with a missing, hashed known_hosts") {
    Fixture f;
    std::filesystem::remove(f.known_hosts);
    auto options = f.client_options(false);
    options.hash_new_hosts = true;
    auto r = handshake(f.server(), client::public_key(options));
    REQUIRE(r.client.credentials);
    std::string text = test::read_file(f.known_hosts);
    CHECK(text.starts_with("|1|"));
    auto known = openssh::parse_known_hosts(text, "kh");
    CHECK(openssh::lookup_host_key(known, "server.example", 0, f.host.public_key()).status ==
          openssh::HostKeyStatus::known);
}

TEST_CASE("public_key: a revoked host key is refused even when listed") {
    Fixture f;
    test::write_file(f.known_hosts,
                     "server.example " + f.host.public_key().to_line() + "\n@revoked * " + f.host.public_key().to_line() + "\n",
                     0600);
    auto r = handshake(f.server(), f.client(false));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("REVOKED"));
}

TEST_CASE("public_key client: a host key it cannot use is a protocol error") {
    Fixture f;
    auto junk = scripted_server(encode_s1({Bytes{0, 0, 0, 3, 'f', 'o', 'o'}, Bytes{1}}));
    auto r = handshake(junk, f.client());
    CHECK(r.client.reason() == DenyReason::protocol_error);
    CHECK(r.client.detail_has("unusable host key"));
}

TEST_CASE("public_key client: a known_hosts that turned unsafe is refused at handshake") {
    Fixture f;
    auto client = f.client();
    ::chmod(f.known_hosts.c_str(), 0666);
    auto r = handshake(f.server(), client);
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("cannot use known_hosts"));
}

TEST_CASE("public_key client: accept-new that cannot write known_hosts refuses") {
    Fixture f;
    auto sub = f.dir / "ssh";
    std::filesystem::create_directory(sub);
    auto options = f.client_options(false);
    options.known_hosts = sub / "known_hosts";  // missing: every host unknown
    auto client = client::public_key(options);
    ::chmod(sub.c_str(), 0777);  // now others could swap the file
    auto r = handshake(f.server(), client);
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("cannot add server.example to known_hosts"));
    CHECK_FALSE(std::filesystem::exists(options.known_hosts));
    ::chmod(sub.c_str(), 0700);
}

TEST_CASE("public_key client: a malformed S2 verdict is a protocol error") {
    Fixture f;
    // A server that proves its key properly, then answers with verdict 7.
    Authenticator odd = [&](Session s) -> asio::awaitable<Session> {
        Bytes cid = s.stream.protection().channel_id;
        Bytes s1 = encode_s1({f.host.public_key().blob(), f.host.sign(host_signed_data(cid))});
        co_await write_all(s.stream, asio::buffer(s1));
        co_await read_frame(s.stream, max_public_key_message, "C1");
        Bytes s2{0, 0, 0, 2, 3, 7};
        co_await write_all(s.stream, asio::buffer(s2));
        co_return s;
    };
    auto r = handshake(odd, f.client());
    CHECK(r.client.reason() == DenyReason::protocol_error);
    CHECK(r.client.detail_has("unknown verdict 7"));
}
