// SocketStream::write_some: a write the kernel takes returns at once with
// what it took (no trip through the event loop); a full socket buffer waits
// for the reader and then completes; a reset or closed connection is an
// error named for the transport, never a silent short write.
#include <doctest/doctest.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <cstdint>
#include <string>
#include <system_error>
#include <vector>

#include "tests/transport/io_harness.hpp"
#include <authchain/transport/tcp.hpp>

using namespace authchain;
using namespace authchain::test::io_harness;

namespace {

// 64 KiB that differ from write to write, so a lost, repeated or reordered
// piece shows in what arrives.
std::string chunk(std::uint32_t seed) {
    std::string out(64 * 1024, '\0');
    std::uint32_t x = seed * 2654435761u + 1;
    for (char& c : out) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        c = static_cast<char>(x);
    }
    return out;
}

// Writes chunks until one write is left waiting (the buffers are full):
// that write, with what the finished ones sent appended to `sent`.
Op fill(asio::io_context& io, Stream& s, std::vector<std::string>& chunks, std::string& sent) {
    for (std::uint32_t i = 0; i < 200; ++i) {  // 12.5 MiB at most; 16 KiB buffers fill far sooner
        chunks.push_back(chunk(i));
        auto w = start(io, s.write_some(asio::buffer(chunks.back())));
        settle(io);
        if (!ready(w)) return w;
        const std::size_t n = w->get();
        REQUIRE(n > 0);
        sent += chunks.back().substr(0, n);
    }
    FAIL("the socket buffers never filled");
    return {};
}

// A pair whose writer (first) filled the socket buffers: `waiting` is its
// write left waiting, `sent` what the finished writes sent.
struct FullBuffers {
    asio::io_context io;
    std::pair<Stream, Stream> streams = small_buffer_pair(io);
    std::vector<std::string> chunks;
    std::string sent;
    Op waiting = fill(io, streams.first, chunks, sent);
};

}  // namespace

TEST_CASE("socket write: what fits is taken at once; a full buffer waits for the reader, then completes, every byte in order") {
    FullBuffers f;
    asio::io_context& io = f.io;
    Op& waiting = f.waiting;
    std::string& sent = f.sent;
    CHECK(sent.size() > 0);
    settle(io);
    CHECK_FALSE(ready(waiting));  // nothing was read: it still waits

    std::string received;
    for (int i = 0; i < 10'000 && !(ready(waiting) && received.size() == sent.size() + waiting->value); ++i)
        received += read_now(io, f.streams.second, 64 * 1024);
    REQUIRE(ready(waiting));
    const std::size_t last = waiting->get();
    CHECK(last > 0);
    sent += f.chunks.back().substr(0, last);
    REQUIRE(received.size() == sent.size());
    CHECK(received == sent);
}

TEST_CASE("socket write: an empty buffer takes nothing and is no error") {
    asio::io_context io;
    auto [a, b] = small_buffer_pair(io);
    auto w = start(io, a.write_some(asio::const_buffer()));
    REQUIRE(run_until(io, w));
    CHECK(w->get() == 0);
}

TEST_CASE("socket write: a reset connection fails the next write with a tcp write error") {
    asio::io_context io;
    auto [a, b] = small_buffer_pair(io);
    b.abort();  // RST
    const std::string data = chunk(7);
    bool failed = false;
    // The first write may still be taken before the reset is seen; a later one fails.
    for (int i = 0; i < 20 && !failed; ++i) {
        auto w = start(io, a.write_some(asio::buffer(data)));
        REQUIRE(run_until(io, w));
        try {
            const std::size_t n = w->get();
            CHECK(n > 0);
        } catch (const std::system_error& e) {
            failed = true;
            CHECK(std::string(e.what()).find("tcp write") != std::string::npos);
        }
    }
    CHECK(failed);
}

TEST_CASE("socket write: a write waiting on a full buffer ends with an error when its stream is closed") {
    FullBuffers f;
    f.streams.first.close();
    REQUIRE(run_until(f.io, f.waiting));
    CHECK_THROWS_AS(f.waiting->get(), std::system_error);
}
