// A layer's server side in a client chain (or the reverse) is refused at
// once with a message saying so, not after a timeout: the drivers mark the
// connection's side and each two-sided layer checks it first.
#include "tests/auth/public_key_fixture.hpp"

#include <authchain/compose/server.hpp>
#include <authchain/transport/secure_channel.hpp>

using namespace authchain;
using namespace authchain::pk_test;
using namespace std::chrono_literals;

namespace {

struct Ends {
    std::vector<AuditRecord> server_audit;
    std::optional<AuthenticationError> client_refusal;
    bool client_accepted = false;
};

// Server(server_chain) on a pipe and authenticate(client_chain) against it,
// both with deadlines far beyond test::run's limit: a hang fails the test.
Ends meet(const Authenticator& server_chain, const Authenticator& client_chain) {
    Ends out;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        PipeListener listener(ex);
        ServerOptions options;
        options.handshake_timeout = 60s;
        options.audit = [&](const AuditRecord& r) { out.server_audit.push_back(r); };
        Server server(listener, server_chain, [](Session) -> asio::awaitable<void> { co_return; }, options);
        asio::co_spawn(ex, server.run(), asio::detached);
        // Named, not built in the co_await expression: g++ 12 frees such temporaries twice.
        Stream connection = listener.connect();
        const ClientOptions client_options{.handshake_timeout = 60s};
        try {
            Session s = co_await authenticate(std::move(connection), client_chain, client_options);
            out.client_accepted = true;
        } catch (const AuthenticationError& e) {
            out.client_refusal = e;
        }
        for (int i = 0; i < 200 && out.server_audit.empty(); ++i) co_await test::sleep_for(5ms);
        server.stop();
    });
    return out;
}

bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("client::secure_channel in a server chain is refused at once, naming the layer") {
    const Authenticator server_chain = client::secure_channel();
    const Authenticator client_chain = client::secure_channel();
    auto e = meet(server_chain, client_chain);
    REQUIRE(e.server_audit.size() == 1);
    CHECK(e.server_audit[0].reason == DenyReason::internal_error);
    CHECK(has(e.server_audit[0].detail, "client::secure_channel: the client side of this layer is in a server chain"));
    CHECK_FALSE(e.client_accepted);
    REQUIRE(e.client_refusal);
    CHECK(e.client_refusal->reason() != DenyReason::timeout);
}

TEST_CASE("the server secure_channel in a client chain is refused at once, naming the layer") {
    const Authenticator server_chain = secure_channel();
    const Authenticator client_chain = secure_channel();
    auto e = meet(server_chain, client_chain);
    REQUIRE(e.client_refusal);
    CHECK(e.client_refusal->reason() == DenyReason::internal_error);
    CHECK(has(e.client_refusal->detail(), "secure_channel: the server side of this layer is in a client chain"));
    REQUIRE(e.server_audit.size() == 1);
    CHECK(e.server_audit[0].reason != DenyReason::timeout);
}

TEST_CASE("client::public_key in a server chain is refused at once, naming the layer") {
    Fixture f;
    const Authenticator server_chain = secure_channel() | f.client();
    const Authenticator client_chain = client::secure_channel() | f.client();
    auto e = meet(server_chain, client_chain);
    REQUIRE(e.server_audit.size() == 1);
    CHECK(e.server_audit[0].reason == DenyReason::internal_error);
    CHECK(has(e.server_audit[0].detail, "client::public_key: the client side of this layer is in a server chain"));
    REQUIRE(e.client_refusal);
    CHECK(e.client_refusal->reason() != DenyReason::timeout);
}

TEST_CASE("the server public_key in a client chain is refused at once, naming the layer") {
    Fixture f;
    const Authenticator server_chain = secure_channel() | f.server();
    const Authenticator client_chain = client::secure_channel() | f.server();
    auto e = meet(server_chain, client_chain);
    REQUIRE(e.client_refusal);
    CHECK(e.client_refusal->reason() == DenyReason::internal_error);
    CHECK(has(e.client_refusal->detail(), "public_key: the server side of this layer is in a client chain"));
    REQUIRE(e.server_audit.size() == 1);
    CHECK(e.server_audit[0].reason != DenyReason::timeout);
}

TEST_CASE("two public_key servers facing each other: C1 names the S1 it got instead") {
    Fixture f;
    auto r = handshake(f.server(), f.server());  // run by hand: no driver, no side marker
    CHECK(r.server.reason() == DenyReason::protocol_error);
    CHECK(r.server.detail_has("the peer sent S1"));
}
