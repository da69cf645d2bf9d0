// An authenticated TCP connection read with asio::async_read_until: a
// Stream (here under the secure channel) is an Asio stream end to end.
#include <doctest/doctest.h>

#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>
#include <cctype>

#include <authchain/compose/server.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/secure_channel.hpp>
#include <authchain/transport/tcp.hpp>

using namespace authchain;

TEST_CASE("line protocol over secure_channel on loopback TCP with async_read_until and async_write") {
    const Authenticator server_chain = secure_channel();
    const Authenticator client_chain = client::secure_channel();
    std::vector<std::string> lines_seen;
    test::run([&](asio::any_io_executor ex) -> asio::awaitable<void> {
        TcpListener listener(ex, "127.0.0.1", 0);
        auto port = listener.local_endpoint().port();
        // The server upper-cases each line it reads, with a streambuf.
        Server server(listener, server_chain, [&](Session s) -> asio::awaitable<void> {
            asio::streambuf in(1024);
            for (int i = 0; i < 3; ++i) {
                std::size_t n = co_await asio::async_read_until(s.stream, in, '\n', asio::use_awaitable);
                std::string line(asio::buffers_begin(in.data()), asio::buffers_begin(in.data()) + n);
                in.consume(n);
                lines_seen.push_back(line);
                for (auto& ch : line) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
                co_await asio::async_write(s.stream, asio::buffer(line), asio::use_awaitable);
            }
        });
        asio::co_spawn(ex, server.run(), asio::detached);

        Session session = co_await authenticate(co_await tcp_connect("127.0.0.1", port), client_chain);
        CHECK(session.stream.protection().confidential);
        const std::string request = "one\ntwo\nthree\n";
        co_await asio::async_write(session.stream, asio::buffer(request), asio::use_awaitable);
        std::string replies, pending;
        for (int i = 0; i < 3; ++i) {
            std::size_t n = co_await asio::async_read_until(session.stream, asio::dynamic_buffer(pending), '\n',
                                                            asio::use_awaitable);
            replies += pending.substr(0, n);
            pending.erase(0, n);
        }
        CHECK(replies == "ONE\nTWO\nTHREE\n");
        server.stop();
    });
    CHECK(lines_seen == std::vector<std::string>{"one\n", "two\n", "three\n"});
}
