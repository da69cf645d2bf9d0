#include <doctest/doctest.h>

#include <sys/stat.h>

#include "tests/auth/public_key_fixture.hpp"
#include <authchain/transport/secure_channel.hpp>

using namespace authchain;
using namespace authchain::pk_test;

TEST_CASE("public_key: mutual authentication") {
    Fixture f;
    auto r = handshake(f.server(), f.client());
    REQUIRE_MESSAGE(r.server.credentials, r.server.failure, (r.server.error ? r.server.error->what() : ""));
    REQUIRE_MESSAGE(r.client.credentials, r.client.failure, (r.client.error ? r.client.error->what() : ""));
    const Credentials& s = *r.server.credentials;
    CHECK(s.key_type == std::string("ssh-ed25519"));
    CHECK(s.key_fingerprint == f.user.public_key().fingerprint());
    CHECK(s.key_comment == std::string("alice@laptop"));
    CHECK(s.key_restrictions == KeyRestrictions{});
    CHECK(s.layers() == std::vector<std::string>{"transport", "public_key"});
    const Credentials& c = *r.client.credentials;
    CHECK(c.host_name == std::string("server.example"));
    CHECK(c.key_type == std::string("ssh-ed25519"));
    CHECK(c.key_fingerprint == f.host.public_key().fingerprint());
}

TEST_CASE("public_key: restrictions and the port form of the host name") {
    Fixture f;
    test::write_file(f.authorized_keys,
                     "restrict,port-forwarding,command=\"uptime\" " + f.user.public_key().to_line() + "\n", 0600);
    test::write_file(f.known_hosts, "[server.example]:2222 " + f.host.public_key().to_line() + "\n", 0600);
    auto options = f.client_options();
    options.port = 2222;
    auto server_options = f.server_options();
    server_options.ignore_command = true;  // else command= is refused (test_public_key_restrictions.cpp)
    auto r = handshake(public_key(server_options), client::public_key(options));
    REQUIRE(r.server.credentials);
    REQUIRE(r.client.credentials);
    CHECK(r.server.credentials->key_restrictions->restrict);
    CHECK(r.server.credentials->key_restrictions->command == std::optional<std::string>("uptime"));
    CHECK_FALSE(r.server.credentials->key_comment.known());
    CHECK(r.client.credentials->host_name == std::string("[server.example]:2222"));
}

TEST_CASE("public_key: the server refuses an unknown user key") {
    Fixture f;
    PrivateKey other = PrivateKey::generate_ed25519();
    test::write_file(f.authorized_keys, other.public_key().to_line() + "\n", 0600);
    auto r = handshake(f.server(), f.client());
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("key not in authorized_keys"));
    CHECK(r.server.detail_has(f.user.public_key().fingerprint()));
    CHECK(r.client.reason() == DenyReason::denied);
    CHECK(r.client.detail_has("the server refused our key"));
}

TEST_CASE("public_key: expired key") {
    Fixture f;
    test::write_file(f.authorized_keys, "expiry-time=\"20200101\" " + f.user.public_key().to_line() + "\n", 0600);
    auto r = handshake(f.server(), f.client());
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("expired on 20200101"));
    CHECK(r.client.reason() == DenyReason::denied);
}

TEST_CASE("public_key: from= against the peer address") {
    Fixture f;
    auto line = f.user.public_key().to_line();
    auto options = pipe_with(channel_a);
    options.client.endpoint = {asio::ip::make_address("10.1.2.3"), 40000};

    test::write_file(f.authorized_keys, "from=\"10.0.0.0/8\" " + line + "\n", 0600);
    CHECK(handshake(f.server(), f.client(), options).server.credentials);

    test::write_file(f.authorized_keys, "from=\"192.168.0.0/16\" " + line + "\n", 0600);
    auto mismatch = handshake(f.server(), f.client(), options);
    CHECK(mismatch.server.reason() == DenyReason::denied);
    CHECK(mismatch.server.detail_has("does not match 10.1.2.3"));
    CHECK(mismatch.client.reason() == DenyReason::denied);

    test::write_file(f.authorized_keys, "from=\"10.0.0.0/8,!10.1.2.3\" " + line + "\n", 0600);
    auto negated = handshake(f.server(), f.client(), options);
    CHECK(negated.server.reason() == DenyReason::denied);
    CHECK(negated.server.detail_has("does not match 10.1.2.3"));
}

TEST_CASE("public_key: a line with an unsupported option is skipped and the key refused") {
    Fixture f;
    test::write_file(f.authorized_keys, "environment=\"LD_PRELOAD=x\" " + f.user.public_key().to_line() + "\n", 0600);
    auto files = std::make_shared<PublicKeyFiles>(f.server_options());
    REQUIRE(files->warnings().size() == 1);
    CHECK(files->warnings()[0].find("\"environment\"") != std::string::npos);
    auto r = handshake(public_key(files), f.client());
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("key not in authorized_keys"));
}

TEST_CASE("public_key: streams without a channel id are refused") {
    Fixture f;
    auto r = handshake(f.server(), f.client(), PipeOptions{});
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("public_key needs a channel id: put secure_channel before it"));
    CHECK(r.client.reason() == DenyReason::protocol_error);
    CHECK(r.client.detail_has("put secure_channel before it"));
}

TEST_CASE("public_key: truncated messages are protocol errors") {
    Fixture f;
    for (std::size_t cut : {0u, 3u, 4u, 40u}) {
        CAPTURE(cut);
        auto to_client = pipe_with(channel_a);
        to_client.client.faults.truncate_after = cut;  // S1 cut short
        auto r = handshake(f.server(), f.client(), to_client);
        CHECK(r.client.reason() == DenyReason::protocol_error);
        CHECK(r.client.detail_has("S1"));

        auto to_server = pipe_with(channel_a);
        to_server.server.faults.truncate_after = cut;  // C1 cut short
        r = handshake(f.server(), f.client(), to_server);
        CHECK(r.server.reason() == DenyReason::protocol_error);
        CHECK(r.server.detail_has("C1"));
    }
    // S2 cut short: the whole S1 and 3 bytes of S2 arrive.
    std::size_t s1_size = encode_s1({f.host.public_key().blob(), f.host.sign(host_signed_data(channel_a))}).size();
    auto s2 = pipe_with(channel_a);
    s2.client.faults.truncate_after = s1_size + 3;
    auto cut = handshake(f.server(), f.client(), s2);
    CHECK(cut.client.reason() == DenyReason::protocol_error);
    CHECK(cut.client.detail_has("S2"));

    // One byte at a time in both directions still works.
    auto slow = pipe_with(channel_a);
    slow.client.faults.one_byte_at_a_time = true;
    slow.server.faults.one_byte_at_a_time = true;
    auto whole = handshake(f.server(), f.client(), slow);
    CHECK(whole.client.credentials);
    CHECK(whole.server.credentials);
}

TEST_CASE("public_key: a proof relayed from another channel is refused") {
    Fixture f;
    // The client's proof made for channel A, replayed on a connection with channel B.
    auto relay = scripted_client([&](const KeyProof& s1) {
        return encode_c1({f.user.public_key().blob(), f.user.sign(user_signed_data(channel_a, s1.key_blob))});
    });
    auto r = handshake(f.server(), relay, pipe_with(channel_b));
    CHECK(r.server.reason() == DenyReason::denied);
    CHECK(r.server.detail_has("signature does not verify"));
    CHECK(r.client.reason() == DenyReason::denied);

    // Made for channel B but for another host key: refused too.
    PrivateKey other = PrivateKey::generate_ed25519();
    auto wrong_host = scripted_client([&](const KeyProof&) {
        return encode_c1({f.user.public_key().blob(),
                          f.user.sign(user_signed_data(channel_b, other.public_key().blob()))});
    });
    CHECK(handshake(f.server(), wrong_host, pipe_with(channel_b)).server.detail_has("signature does not verify"));

    // The control: the same script with the right channel passes.
    auto honest = scripted_client([&](const KeyProof& s1) {
        return encode_c1({f.user.public_key().blob(), f.user.sign(user_signed_data(channel_b, s1.key_blob))});
    });
    CHECK(handshake(f.server(), honest, pipe_with(channel_b)).server.credentials);

    // The host's proof made for channel A, replayed by an impostor on channel B.
    auto impostor = scripted_server(
        encode_s1({f.host.public_key().blob(), f.host.sign(host_signed_data(channel_a))}));
    auto h = handshake(impostor, f.client(), pipe_with(channel_b));
    CHECK(h.client.reason() == DenyReason::denied);
    CHECK(h.client.detail_has("signature does not verify"));
}

TEST_CASE("public_key: oversized and malformed messages are protocol errors") {
    Fixture f;
    Bytes huge_header{0x00, 0x00, 0x40, 0x01};  // 16385 > 16 KiB
    auto r = handshake(scripted_server(huge_header), f.client());
    CHECK(r.client.reason() == DenyReason::protocol_error);
    CHECK(r.client.detail_has("out of range"));

    auto big_c1 = scripted_client([&](const KeyProof&) { return Bytes{0xff, 0xff, 0xff, 0xff}; });
    r = handshake(f.server(), big_c1);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("out of range"));

    auto junk_key = scripted_client([&](const KeyProof&) { return encode_c1({Bytes{1, 2, 3}, Bytes{4}}); });
    r = handshake(f.server(), junk_key);
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("unusable user key"));

    auto wrong_type = scripted_server(encode_c1({Bytes{1}, Bytes{2}}));  // a C1 where S1 belongs
    r = handshake(wrong_type, f.client());
    CHECK(r.client.reason() == DenyReason::protocol_error);
}

TEST_CASE("public_key: files are checked at build time and reloaded on demand") {
    Fixture f;
    ::chmod(f.authorized_keys.c_str(), 0666);
    CHECK_THROWS(f.server());
    ::chmod(f.authorized_keys.c_str(), 0600);
    ::chmod(f.host_key.c_str(), 0644);
    CHECK_THROWS(f.server());
    ::chmod(f.host_key.c_str(), 0600);
    ::chmod(f.identity.c_str(), 0644);
    CHECK_THROWS(f.client());
    ::chmod(f.identity.c_str(), 0600);
    ::chmod(f.known_hosts.c_str(), 0622);
    CHECK_THROWS(f.client());
    ::chmod(f.known_hosts.c_str(), 0600);
    auto no_name = f.client_options();
    no_name.known_hosts.clear();
    CHECK_THROWS_AS(client::public_key(no_name), std::invalid_argument);
    auto missing = f.server_options();
    missing.authorized_keys = f.dir / "nope";
    CHECK_THROWS(public_key(missing));

    // Reload: a new authorized_keys takes effect; a broken one is refused and the old kept.
    PrivateKey second = PrivateKey::generate_ed25519();
    test::write_file(f.dir / "id2", second.to_openssh(""), 0600);
    auto second_client = f.client_options();
    second_client.identity = f.dir / "id2";
    auto files = std::make_shared<PublicKeyFiles>(f.server_options());
    auto server = public_key(files);
    CHECK(handshake(server, client::public_key(second_client)).server.reason() == DenyReason::denied);

    test::write_file(f.authorized_keys, second.public_key().to_line() + "\n", 0600);
    files->reload();
    CHECK(handshake(server, client::public_key(second_client)).server.credentials);
    CHECK(handshake(server, f.client()).server.reason() == DenyReason::denied);

    ::chmod(f.authorized_keys.c_str(), 0666);
    CHECK_THROWS(files->reload());
    CHECK(handshake(server, client::public_key(second_client)).server.credentials);
    CHECK(files->name().find("authorized_keys") != std::string::npos);
}

TEST_CASE("public_key over a real secure_channel") {
    Fixture f;
    auto server = secure_channel() | f.server();
    auto ok = handshake(server, client::secure_channel() | f.client(), PipeOptions{});
    REQUIRE_MESSAGE(ok.server.credentials, ok.server.failure, (ok.server.error ? ok.server.error->what() : ""));
    REQUIRE(ok.client.credentials);
    CHECK(ok.server.credentials->channel_id.known());
    CHECK(ok.server.credentials->channel_id == *ok.client.credentials->channel_id);
    CHECK(ok.server.credentials->layers() == std::vector<std::string>{"transport", "secure_channel", "public_key"});
    CHECK(ok.server.credentials->key_fingerprint == f.user.public_key().fingerprint());
    CHECK(ok.client.credentials->host_name == std::string("server.example"));

    // Refused: the client learns "denied" through the encrypted channel.
    PrivateKey other = PrivateKey::generate_ed25519();
    test::write_file(f.authorized_keys, other.public_key().to_line() + "\n", 0600);
    auto refused = handshake(secure_channel() | f.server(), client::secure_channel() | f.client(), PipeOptions{});
    CHECK(refused.server.reason() == DenyReason::denied);
    CHECK(refused.client.reason() == DenyReason::denied);
}
