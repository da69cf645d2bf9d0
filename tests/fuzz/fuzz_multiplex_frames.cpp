// Fuzzes the multiplexed channel's frame decoder (relay/multiplex/frame) as a
// peer's byte stream: frames one after another until the input runs out or
// one is refused. Only FrameError may come out of decode_frame; every frame
// it accepts fits in what was left, and its encoder gives back the very
// bytes it decoded.
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include <authchain/relay/multiplex/frame.hpp>

namespace {

authchain::Bytes encode_again(const authchain::mux::Frame& f) {
    using namespace authchain::mux;
    authchain::Bytes out;
    switch (f.type) {
        case FrameType::hello: encode_hello(out, f.hello); break;
        case FrameType::open: encode_open(out, f.stream); break;
        case FrameType::data: encode_data(out, f.stream, f.payload); break;
        case FrameType::window: encode_window(out, f.stream, f.increment); break;
        case FrameType::fin: encode_fin(out, f.stream); break;
        case FrameType::reset: encode_reset(out, f.stream, f.reason); break;
        case FrameType::goaway: encode_goaway(out); break;
        default: std::abort();
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace authchain;
    ByteView rest(data, size);
    while (!rest.empty()) {
        std::optional<std::pair<mux::Frame, std::size_t>> decoded;
        try {
            decoded = mux::decode_frame(rest);
        } catch (const mux::FrameError&) {
            return 0;
        }
        if (!decoded) return 0;
        const auto& [frame, used] = *decoded;
        if (used < mux::frame_header || used > rest.size()) std::abort();
        const ByteView slice = rest.first(used);
        if (frame.payload.data() != slice.data() + mux::frame_header ||
            frame.payload.size() != used - mux::frame_header)
            std::abort();
        const Bytes again = encode_again(frame);
        if (!std::equal(again.begin(), again.end(), slice.begin(), slice.end())) std::abort();
        rest = rest.subspan(used);
    }
    return 0;
}
