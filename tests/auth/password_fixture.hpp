// Shared by the password layer tests: a user database with cheap Argon2
// parameters (m=64 KiB, t=1: the suite stays fast; production defaults are
// OWASP's), server and client layers over it, and a prior client layer that
// stands for the server proof a client::public_key would have made.
#pragma once

#include <memory>

#include <authchain/auth/password.hpp>
#include <authchain/auth/password/detail/io.hpp>
#include <authchain/auth/password/detail/messages.hpp>
#include "tests/auth/public_key_fixture.hpp"

namespace authchain::pw_test {

using namespace authchain::pk_test;

inline constexpr userdb::Argon2Params quick{64, 1, 1};

// What client::public_key proves before password runs: the server's host name.
inline Authenticator server_proven(std::string host = "server.example") {
    return [host](Session s) -> asio::awaitable<Session> {
        s.credentials.prove("public_key", &Credentials::host_name, host, "host_name");
        co_return s;
    };
}

// Counts how often the client's password source is asked.
struct AskCounter {
    std::shared_ptr<int> asked = std::make_shared<int>(0);
    openssh::Passphrase source(std::string password) const {
        return openssh::Passphrase::from_source([asked = asked, password]() -> std::optional<userdb::Secret> {
            ++*asked;
            return userdb::Secret(password.begin(), password.end());
        });
    }
};

struct PwFixture {
    test::TempDir dir;
    std::filesystem::path users = dir / "users";

    PwFixture() {
        test::write_file(users,
                         "# test users\n"
                         "alice:" + userdb::hash_password("correct horse", quick) + "\n"
                         "\n"
                         "bob:" + userdb::hash_password("battery staple", quick) + "\n",
                         0600);
    }
    PasswordServerOptions server_options() const {
        PasswordServerOptions o;
        o.users = users;
        o.minimum = quick;
        return o;
    }
    Authenticator server() const { return password(server_options()); }
};

inline client::PasswordClientOptions client_options(std::string user, std::string pw) {
    client::PasswordClientOptions o;
    o.user = std::move(user);
    o.password = openssh::Passphrase(std::move(pw));
    return o;
}

// The client chain: the server proven first, then password.
inline Authenticator login_client(std::string user, std::string pw) {
    return server_proven() | client::password(client_options(std::move(user), std::move(pw)));
}

// A server that reads until the end of the stream and counts the bytes.
inline Authenticator byte_counter(std::shared_ptr<std::size_t> count) {
    return [count](Session s) -> asio::awaitable<Session> {
        std::array<std::uint8_t, 4096> buf{};
        try {
            for (;;) {
                std::size_t n = co_await s.stream.read_some(asio::buffer(buf));
                if (n == 0) break;
                *count += n;
            }
        } catch (const std::exception&) {
        }
        deny(DenyReason::denied, "byte counter: " + std::to_string(*count) + " bytes");
    };
}

// A client that sends `frame` (raw bytes) and reads the P2 verdict.
inline Authenticator scripted_login(Bytes frame) {
    return [frame](Session s) -> asio::awaitable<Session> {
        co_await write_all(s.stream, asio::buffer(frame));
        auto body = co_await read_secret_frame(s.stream, max_password_message, "P2");
        if (auto v = decode_p2(ByteView(body.data(), body.size()))) deny(*v, "refused");
        co_return s;
    };
}

inline Bytes p1_bytes(ByteView channel_id, std::string_view user, std::string_view pw) {
    auto frame = encode_p1(channel_id, user, pw);
    return Bytes(frame.begin(), frame.end());
}

}  // namespace authchain::pw_test
