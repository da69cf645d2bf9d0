#include <authchain/relay/multiplex/frame.hpp>

#include <array>
#include <string>

namespace authchain::mux {

namespace {

std::uint32_t get32(ByteView b) {
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
}

template <std::size_t N>
void put_be(std::uint8_t* at, std::uint32_t v) {
    for (std::size_t i = 0; i < N; ++i) at[i] = static_cast<std::uint8_t>(v >> (8 * (N - 1 - i)));
}

std::string out_of_range(std::string what, std::uint32_t value, std::uint32_t least, std::uint32_t most) {
    return what + " " + std::to_string(value) + " out of range " + std::to_string(least) + ".." +
           std::to_string(most);
}

// What is wrong with a frame's header on its own (frame.hpp's table), or "".
std::string header_problem(std::uint8_t type, std::uint32_t stream, std::size_t length) {
    if (type > static_cast<std::uint8_t>(FrameType::goaway)) return "unknown frame type " + std::to_string(type);
    const auto t = static_cast<FrameType>(type);
    const std::string name = std::string(to_string(t)) + " frame";
    const bool channel_wide = t == FrameType::hello || t == FrameType::goaway;
    if (channel_wide != (stream == 0))
        return name + " on stream " + std::to_string(stream) + (channel_wide ? " (must be 0)" : "");
    std::size_t least = 0, most = 0;  // open, fin, goaway: empty
    switch (t) {
        case FrameType::hello: least = most = hello_payload; break;
        case FrameType::data: least = 1; most = max_data; break;
        case FrameType::window: least = most = 4; break;
        case FrameType::reset: least = most = 1; break;
        case FrameType::open:
        case FrameType::fin:
        case FrameType::goaway: break;
    }
    if (length >= least && length <= most) return {};
    const std::string bound = least == most ? "must be " + std::to_string(least)
                              : length < least ? "at least " + std::to_string(least)
                                               : "at most " + std::to_string(most);
    return name + " of " + std::to_string(length) + (length == 1 ? " byte (" : " bytes (") + bound + ")";
}

// Decodes the values in f.payload (its length already checked) into f;
// returns what is wrong with them, or "".
std::string read_values(Frame& f) {
    const ByteView p = f.payload;
    switch (f.type) {
        case FrameType::hello:
            if (p[0] != protocol_version)
                return "hello version " + std::to_string(p[0]) + " (expected " + std::to_string(protocol_version) + ")";
            f.hello = {.max_streams = get32(p.subspan(1)), .window = get32(p.subspan(5))};
            if (f.hello.max_streams < 1 || f.hello.max_streams > max_streams_limit)
                return out_of_range("hello max_streams", f.hello.max_streams, 1, max_streams_limit);
            if (f.hello.window < min_initial_window || f.hello.window > max_initial_window)
                return out_of_range("hello window", f.hello.window, min_initial_window, max_initial_window);
            break;
        case FrameType::window:
            f.increment = get32(p);
            if (f.increment < 1 || f.increment > max_window_limit)
                return out_of_range("window increment", f.increment, 1, max_window_limit);
            break;
        case FrameType::reset:
            if (p[0] > static_cast<std::uint8_t>(ResetReason::refused))
                return "unknown reset reason " + std::to_string(p[0]);
            f.reason = static_cast<ResetReason>(p[0]);
            break;
        case FrameType::open:
        case FrameType::data:
        case FrameType::fin:
        case FrameType::goaway: break;
    }
    return {};
}

// Appends the frame after the checks decode_frame makes.
void put_frame(Bytes& out, FrameType type, std::uint32_t stream, ByteView payload) {
    Frame f{.type = type, .stream = stream, .payload = payload};
    std::string problem = header_problem(static_cast<std::uint8_t>(type), stream, payload.size());
    if (problem.empty()) problem = read_values(f);
    if (!problem.empty()) throw std::invalid_argument("multiplex: cannot encode " + problem);
    std::array<std::uint8_t, frame_header> header{static_cast<std::uint8_t>(type)};
    put_be<4>(&header[1], stream);
    put_be<2>(&header[5], static_cast<std::uint32_t>(payload.size()));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), payload.begin(), payload.end());
}

}  // namespace

std::optional<std::pair<Frame, std::size_t>> decode_frame(ByteView input) {
    if (input.size() < frame_header) return std::nullopt;
    const std::uint32_t stream = get32(input.subspan(1));
    const std::size_t length = (std::size_t{input[5]} << 8) | input[6];
    if (auto problem = header_problem(input[0], stream, length); !problem.empty())
        throw FrameError("multiplex: " + problem);
    if (input.size() - frame_header < length) return std::nullopt;
    Frame f{.type = static_cast<FrameType>(input[0]), .stream = stream, .payload = input.subspan(frame_header, length)};
    if (auto problem = read_values(f); !problem.empty()) throw FrameError("multiplex: " + problem);
    return std::pair{f, frame_header + length};
}

void encode_hello(Bytes& out, Hello hello) {
    std::array<std::uint8_t, hello_payload> payload{protocol_version};
    put_be<4>(&payload[1], hello.max_streams);
    put_be<4>(&payload[5], hello.window);
    put_frame(out, FrameType::hello, 0, payload);
}

void encode_open(Bytes& out, std::uint32_t stream) { put_frame(out, FrameType::open, stream, {}); }

void encode_data(Bytes& out, std::uint32_t stream, ByteView data) { put_frame(out, FrameType::data, stream, data); }

void encode_window(Bytes& out, std::uint32_t stream, std::uint32_t increment) {
    std::array<std::uint8_t, 4> payload{};
    put_be<4>(payload.data(), increment);
    put_frame(out, FrameType::window, stream, payload);
}

void encode_fin(Bytes& out, std::uint32_t stream) { put_frame(out, FrameType::fin, stream, {}); }

void encode_reset(Bytes& out, std::uint32_t stream, ResetReason reason) {
    const std::array<std::uint8_t, 1> payload{static_cast<std::uint8_t>(reason)};
    put_frame(out, FrameType::reset, stream, payload);
}

void encode_goaway(Bytes& out) { put_frame(out, FrameType::goaway, 0, {}); }

std::string_view to_string(FrameType type) {
    switch (type) {
        case FrameType::hello: return "hello";
        case FrameType::open: return "open";
        case FrameType::data: return "data";
        case FrameType::window: return "window";
        case FrameType::fin: return "fin";
        case FrameType::reset: return "reset";
        case FrameType::goaway: return "goaway";
    }
    return "unknown";
}

std::string_view to_string(ResetReason reason) {
    switch (reason) {
        case ResetReason::aborted: return "aborted";
        case ResetReason::refused: return "refused";
    }
    return "unknown";
}

}  // namespace authchain::mux
