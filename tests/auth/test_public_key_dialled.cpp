// client::public_key without .host_name/.port: the name and port the
// connection dialled (tcp_connect records them) are looked up in known_hosts.
#include "tests/auth/public_key_fixture.hpp"

#include <authchain/compose/server.hpp>
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using namespace authchain::pk_test;

namespace {

client::PublicKeyClientOptions undialled_options(const Fixture& f) {
    auto o = f.client_options();
    o.host_name.clear();
    o.port = 0;
    return o;
}

// One handshake over loopback TCP, the client written as a user would:
// a named chain, co_await authenticate(co_await tcp_connect(...), chain).
struct TcpOutcome {
    std::optional<Credentials> client;
    std::optional<DenyReason> refused;
    std::uint16_t port = 0;
};

TcpOutcome over_tcp(const Fixture& f, const std::function<void(std::uint16_t)>& before_connect) {
    const Authenticator server_chain = secure_channel() | f.server();
    const Authenticator client_chain = client::secure_channel() | client::public_key(undialled_options(f));
    return test::run([&](asio::any_io_executor ex) -> asio::awaitable<TcpOutcome> {
        TcpListener listener(ex, "127.0.0.1", 0);
        TcpOutcome out;
        out.port = listener.local_endpoint().port();
        before_connect(out.port);
        Server server(listener, server_chain, [](Session) -> asio::awaitable<void> { co_return; });
        asio::co_spawn(ex, server.run(), asio::detached);
        try {
            Session s = co_await authenticate(co_await tcp_connect("127.0.0.1", out.port), client_chain);
            out.client = s.credentials;
        } catch (const AuthenticationError& e) {
            out.refused = e.reason();
        }
        server.stop();
        co_return out;
    });
}

}  // namespace

TEST_CASE("tcp_connect records the host and port it dialled on every stream of the connection") {
    test::run([](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpListener listener(ex, "127.0.0.1", 0);
        auto port = listener.local_endpoint().port();
        Stream s = co_await tcp_connect("127.0.0.1", port);
        Stream accepted = co_await listener.accept();
        REQUIRE(s.dialled());
        CHECK(s.dialled()->host == "127.0.0.1");
        CHECK(s.dialled()->port == port);
        CHECK_FALSE(accepted.dialled());  // the server side dialled nothing
    });
}

TEST_CASE("public_key without host_name looks up [host]:port as dialled, over TCP") {
    Fixture f;
    auto out = over_tcp(f, [&](std::uint16_t port) {
        test::write_file(f.known_hosts,
                         "[127.0.0.1]:" + std::to_string(port) + " " + f.host.public_key().to_line() + "\n", 0600);
    });
    REQUIRE(out.client);
    CHECK(out.client->host_name == "[127.0.0.1]:" + std::to_string(out.port));
}

TEST_CASE("public_key without host_name refuses a host listed only under its plain name (the port is not 22)") {
    Fixture f;
    auto out = over_tcp(f, [&](std::uint16_t) {
        test::write_file(f.known_hosts, "127.0.0.1 " + f.host.public_key().to_line() + "\n", 0600);
    });
    CHECK_FALSE(out.client);
    REQUIRE(out.refused);
    CHECK(*out.refused == DenyReason::denied);
}

TEST_CASE("public_key takes the dialled name and port from the stream's trail, under secure_channel too") {
    Fixture f;  // known_hosts lists "server.example"
    PipeOptions o = pipe_with(channel_a);
    auto r = test::run([&](asio::any_io_executor ex) -> asio::awaitable<Result> {
        auto [c, s] = make_pipe(ex, o);
        c.trail()->set_dialled({"server.example", 22});
        auto [server_side, client_side] =
            co_await (side(f.server(), std::move(s)) && side(client::public_key(undialled_options(f)), std::move(c)));
        co_return Result{std::move(server_side), std::move(client_side)};
    });
    REQUIRE(r.client.credentials);
    CHECK(r.client.credentials->host_name == std::string("server.example"));
}

TEST_CASE("an explicit host_name other than the name dialled does not take the dialled port") {
    Fixture f;
    PipeOptions o = pipe_with(channel_a);
    auto r = test::run([&](asio::any_io_executor ex) -> asio::awaitable<Result> {
        auto [c, s] = make_pipe(ex, o);
        c.trail()->set_dialled({"10.1.2.3", 2222});
        auto named = undialled_options(f);
        named.host_name = "server.example";  // port 0: plain name, not [server.example]:2222
        auto [server_side, client_side] =
            co_await (side(f.server(), std::move(s)) && side(client::public_key(named), std::move(c)));
        co_return Result{std::move(server_side), std::move(client_side)};
    });
    REQUIRE(r.client.credentials);
    CHECK(r.client.credentials->host_name == std::string("server.example"));
}

TEST_CASE("public_key without host_name on a connection that dialled nothing is an internal error, not a lookup") {
    Fixture f;
    auto r = handshake(f.server(), client::public_key(undialled_options(f)));
    CHECK_FALSE(r.client.credentials);
    CHECK(r.client.reason() == DenyReason::internal_error);
    CHECK(r.client.detail_has("host_name"));
}
