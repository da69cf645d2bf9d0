// connect_to: a refusal is reported at once, silence at the deadline.
#include <doctest/doctest.h>

#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <chrono>
#include <vector>

#include <authchain/relay/connect.hpp>
#include "tests/support/run.hpp"
#include <authchain/transport/tcp.hpp>

using namespace authchain;

TEST_CASE("connect_to: a refused TCP connection is reported at once, not at the deadline") {
    auto started = std::chrono::steady_clock::now();
    std::error_code code = test::run([](asio::any_io_executor ex) -> asio::awaitable<std::error_code> {
        Endpoint target;
        {
            TcpListener gone(ex);
            target = {"127.0.0.1", gone.local_endpoint().port()};
        }
        try {
            co_await connect_to(target, std::chrono::seconds(10));
        } catch (const std::system_error& e) {
            co_return e.code();
        }
        co_return std::error_code();
    });
    CHECK(code == asio::error::connection_refused);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}

TEST_CASE("connect_to: a TCP backend whose accept queue is full times out at the deadline") {
    auto started = std::chrono::steady_clock::now();
    std::error_code code = test::run([](asio::any_io_executor ex) -> asio::awaitable<std::error_code> {
        TcpListener full(ex, "127.0.0.1", 0, 0);  // backlog 0, never accepts
        Endpoint target{"127.0.0.1", full.local_endpoint().port()};
        // Fill the accept queue; from then on the kernel drops new SYNs.
        std::vector<asio::ip::tcp::socket> fillers;
        fillers.reserve(3);  // they must not move while connecting
        for (int i = 0; i < 3; ++i) {
            fillers.emplace_back(ex);
            fillers.back().async_connect(full.local_endpoint(), [](std::error_code) {});
        }
        asio::steady_timer settle(ex, std::chrono::milliseconds(100));
        co_await settle.async_wait(asio::use_awaitable);
        try {
            co_await connect_to(target, std::chrono::milliseconds(300));
        } catch (const std::system_error& e) {
            co_return e.code();
        }
        co_return std::error_code();
    });
    CHECK(code == asio::error::timed_out);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
}
