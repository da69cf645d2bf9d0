#include <authchain/relay/proxy_in.hpp>

#include <asio/experimental/as_tuple.hpp>
#include <asio/read.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <system_error>

#include <authchain/compose/deadline.hpp>

namespace authchain {

namespace {

// The prefix says how long the rest is; parse() checks it as far as it goes.
std::size_t body_length(ByteView prefix, std::size_t max_size) {
    (void)proxy_v2::parse(prefix, max_size);  // throws on a bad signature, version, command or length
    return (static_cast<std::size_t>(prefix[14]) << 8) | prefix[15];
}

asio::awaitable<std::optional<proxy_v2::Header>> read_exactly(asio::ip::tcp::socket& socket, std::size_t max_size) {
    Bytes bytes(proxy_v2::header_prefix_size);
    auto [ec, n] = co_await asio::async_read(socket, asio::buffer(bytes), asio::experimental::as_tuple(asio::use_awaitable));
    if (ec == asio::error::eof && n == 0) co_return std::nullopt;  // connected and closed: a health check
    if (ec) {
        if (n > 0) proxy_v2::parse(ByteView(bytes.data(), n), max_size);  // garbage says so, not "end of file"
        throw std::system_error(ec, "PROXY v2 header");
    }
    std::size_t len = body_length(bytes, max_size);  // bounded by max_size before any allocation
    bytes.resize(proxy_v2::header_prefix_size + len);
    if (len > 0)
        co_await asio::async_read(socket, asio::buffer(bytes.data() + proxy_v2::header_prefix_size, len),
                                  asio::use_awaitable);
    auto parsed = proxy_v2::parse(bytes, max_size);
    if (!parsed || parsed->size != bytes.size()) throw std::invalid_argument("PROXY v2: incomplete header");
    co_return std::move(parsed->header);
}

}  // namespace

asio::awaitable<std::optional<proxy_v2::Header>> read_proxy_header(asio::ip::tcp::socket& socket, std::chrono::milliseconds limit,
                                                    std::size_t max_size) {
    auto executor = co_await asio::this_coro::executor;
    Deadline deadline(executor, limit, [&socket] {
        std::error_code ignored;
        socket.close(ignored);
    });
    try {
        co_return co_await read_exactly(socket, max_size);
    } catch (...) {
        bool expired = deadline.expired();
        std::error_code ignored;
        socket.close(ignored);
        if (expired) throw std::system_error(asio::error::timed_out, "PROXY v2 header");
        throw;
    }
}

}  // namespace authchain
