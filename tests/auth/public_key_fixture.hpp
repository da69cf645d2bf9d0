// Shared by the public_key layer tests: a server host key, a user key and
// the files that make them trust each other; a handshake over a pipe; and
// scripted peers that send hand-made messages.
#pragma once

#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <botan/bigint.h>
#include <botan/system_rng.h>
#include <functional>
#include <string>

#include <authchain/auth/openssh/detail/wire.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/auth/public_key/detail/io.hpp>
#include <authchain/auth/public_key/detail/messages.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

namespace authchain::pk_test {

using namespace asio::experimental::awaitable_operators;
using openssh::PrivateKey;

inline const Bytes channel_a{1, 2, 3, 4, 5, 6, 7, 8};
inline const Bytes channel_b{9, 9, 9, 9, 9, 9, 9, 9};

inline PipeOptions pipe_with(Bytes channel_id) {
    PipeOptions o;
    o.client.protection = {.confidential = true, .peer_authenticated = false, .channel_id = channel_id, .transport = "test"};
    o.server.protection = o.client.protection;
    return o;
}

// What one side of a handshake ended with (streams stay inside the io_context).
struct Side {
    std::optional<Credentials> credentials;
    std::optional<AuthenticationError> error;
    std::string failure;  // any other exception
    DenyReason reason() const { return error ? error->reason() : DenyReason::busy; }
    bool detail_has(const std::string& part) const {
        return error && error->detail().find(part) != std::string::npos;
    }
};

inline asio::awaitable<Side> side(const Authenticator& auth, Stream stream) {
    Side out;
    try {
        Session s = co_await auth(start_session(std::move(stream)));
        out.credentials = s.credentials;
    } catch (const AuthenticationError& e) {
        out.error = e;
    } catch (const std::exception& e) {
        out.failure = e.what();
    }
    co_return out;
}

struct Result {
    Side server, client;
};

inline Result handshake(const Authenticator& server, const Authenticator& client, PipeOptions options = pipe_with(channel_a)) {
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<Result> {
        auto [c, s] = make_pipe(ex, options);
        auto [server_side, client_side] = co_await (side(server, std::move(s)) && side(client, std::move(c)));
        co_return Result{std::move(server_side), std::move(client_side)};
    });
}

// A server host key, a user key, and the files that make them trust each other.
struct Fixture {
    test::TempDir dir;
    PrivateKey host = PrivateKey::generate_ed25519();
    PrivateKey user = PrivateKey::generate_ed25519();
    std::filesystem::path host_key = dir / "host_key", identity = dir / "id_ed25519",
                          authorized_keys = dir / "authorized_keys", known_hosts = dir / "known_hosts";

    Fixture() {
        test::write_file(host_key, host.to_openssh("host"), 0600);
        test::write_file(identity, user.to_openssh("alice"), 0600);
        test::write_file(authorized_keys, user.public_key().to_line("alice@laptop") + "\n", 0600);
        test::write_file(known_hosts, "server.example " + host.public_key().to_line() + "\n", 0600);
    }
    PublicKeyServerOptions server_options() const {
        return {.host_key = host_key, .host_key_passphrase = std::nullopt, .authorized_keys = authorized_keys};
    }
    client::PublicKeyClientOptions client_options(bool strict = true) const {
        return {.identity = identity, .passphrase = std::nullopt, .known_hosts = known_hosts,
                .host_name = "server.example", .port = 0, .strict = strict};
    }
    Authenticator server() const { return public_key(server_options()); }
    Authenticator client(bool strict = true) const { return client::public_key(client_options(strict)); }
};


// An ssh-rsa blob with modulus n and exponent e, whatever their values.
inline Bytes rsa_blob(const Botan::BigInt& n, const Botan::BigInt& e) {
    auto en = Botan::BigInt::encode(e), nn = Botan::BigInt::encode(n);
    openssh::WireWriter w;
    w.string(std::string_view("ssh-rsa")).mpint(ByteView(en)).mpint(ByteView(nn));
    return w.bytes();
}

// The penetration test's key (issue 14): a 16384-bit odd modulus and the
// public exponent e = n - 2; verifying one signature with it costs seconds.
inline Bytes huge_exponent_rsa_blob(std::size_t bits = 16384) {
    Botan::BigInt n(Botan::system_rng(), bits);  // top bit set
    n.set_bit(0);
    return rsa_blob(n, n - 2);
}

// A signature blob of the right shape for an RSA key of `bits` (content random).
inline Bytes rsa_signature_blob(std::size_t bits = 16384) {
    Bytes sig(bits / 8, 0x5a);
    openssh::WireWriter w;
    w.string(std::string_view("rsa-sha2-512")).string(ByteView(sig));
    return w.bytes();
}

// Counts PublicKey::verify calls (process-wide) made while it lives.
struct VerifyCounter {
    std::uint64_t start = openssh::signature_verifications();
    std::uint64_t count() const { return openssh::signature_verifications() - start; }
};

// A scripted server: sends `s1` (raw bytes) then waits for whatever comes.
inline Authenticator scripted_server(Bytes s1) {
    return [s1](Session s) -> asio::awaitable<Session> {
        co_await write_all(s.stream, asio::buffer(s1));
        co_await read_frame(s.stream, max_public_key_message, "C1");
        co_return s;
    };
}

// A scripted client: reads S1, sends `make_c1(host blob)`, reads S2.
inline Authenticator scripted_client(std::function<Bytes(const KeyProof& s1)> make_c1) {
    return [make_c1](Session s) -> asio::awaitable<Session> {
        KeyProof s1 = decode_s1(co_await read_frame(s.stream, max_public_key_message, "S1"));
        Bytes c1 = make_c1(s1);
        co_await write_all(s.stream, asio::buffer(c1));
        if (!decode_s2(co_await read_frame(s.stream, max_public_key_message, "S2"))) deny(DenyReason::denied, "refused");
        co_return s;
    };
}


}  // namespace authchain::pk_test
