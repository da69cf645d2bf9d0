#include "auth/public_key/detail/io.hpp"

#include <array>
#include <asio/buffer.hpp>

#include "auth/public_key/detail/messages.hpp"

namespace authchain {

asio::awaitable<Bytes> read_public_key_message(Stream& stream, std::string_view what) {
    std::array<std::uint8_t, 4> header{};
    co_await read_exact(stream, asio::buffer(header), what);
    Bytes body(decode_frame_length(header, what));
    co_await read_exact(stream, asio::buffer(body), what);
    co_return body;
}

}  // namespace authchain
