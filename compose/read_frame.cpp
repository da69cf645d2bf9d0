#include <asio/buffer.hpp>

#include <authchain/compose/frame.hpp>

namespace authchain {

namespace {

template <class Body>
asio::awaitable<Body> read_body(Stream& stream, std::size_t max, std::string_view what) {
    std::array<std::uint8_t, frame_header_size> header{};
    co_await read_exact(stream, asio::buffer(header), what);
    Body body(frame_length(header, max, what));
    co_await read_exact(stream, asio::buffer(body.data(), body.size()), what);
    co_return body;
}

}  // namespace

asio::awaitable<Bytes> read_frame(Stream& stream, std::size_t max, std::string_view what) {
    return read_body<Bytes>(stream, max, what);
}

asio::awaitable<Botan::secure_vector<std::uint8_t>> read_secret_frame(Stream& stream, std::size_t max,
                                                                     std::string_view what) {
    return read_body<Botan::secure_vector<std::uint8_t>>(stream, max, what);
}

}  // namespace authchain
