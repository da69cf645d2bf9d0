#include <authchain/relay/multiplex/multiplexer.hpp>

#include <algorithm>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>
#include <system_error>

#include <authchain/relay/multiplex/stream.hpp>

namespace authchain::mux {

namespace {

// The reader's buffer: several frames of max_data at once.
constexpr std::size_t input_size = 64 * 1024;
static_assert(input_size >= 2 * (frame_header + max_data));

}  // namespace

void validate(const SessionOptions& o) {
    if (o.max_streams < 1 || o.max_streams > max_streams_limit)
        throw std::invalid_argument(fmt::format("max_streams {} out of range 1..{}", o.max_streams, max_streams_limit));
    if (o.window < min_initial_window || o.window > max_initial_window)
        throw std::invalid_argument(
            fmt::format("window {} out of range {}..{}", o.window, min_initial_window, max_initial_window));
    if (o.max_window > max_window_limit)
        throw std::invalid_argument(fmt::format("max_window {} above {}", o.max_window, max_window_limit));
    if (o.output_limit < frame_header + max_data)
        throw std::invalid_argument(fmt::format("output_limit {} below one frame", o.output_limit));
    if (o.hello_timeout <= std::chrono::steady_clock::duration::zero())
        throw std::invalid_argument("hello_timeout must be positive");
}

std::shared_ptr<Multiplexer> Multiplexer::create(Stream channel, Role role, SessionOptions options) {
    validate(options);
    return std::shared_ptr<Multiplexer>(new Multiplexer(std::move(channel), role, options));
}

Multiplexer::Multiplexer(Stream channel, Role role, SessionOptions options)
    : channel_(std::move(channel)), executor_(channel_.get_executor()), role_(role), options_(options) {}

Multiplexer::~Multiplexer() { channel_.close(); }

asio::awaitable<void> Multiplexer::start() {
    if (started_ || over_) throw std::logic_error("Multiplexer::start() called twice");
    auto self = shared_from_this();
    Bytes hello;
    encode_hello(hello, Hello{options_.max_streams, options_.window});
    // Shared with the timer's handler, which may run after this frame is gone.
    auto timed_out = std::make_shared<bool>(false);
    auto settled = std::make_shared<bool>(false);
    asio::steady_timer timer(executor_, options_.hello_timeout);
    timer.async_wait([self, timed_out, settled](std::error_code ec) {
        if (ec || *settled) return;
        *timed_out = true;
        self->channel_.close();
    });
    std::exception_ptr failure;
    try {
        co_await write_all(channel_, asio::buffer(hello));
        co_await read_hello();
    } catch (const FrameError& e) {
        failure = std::make_exception_ptr(
            FrameError(std::string("not a multiplexing peer (multiplex must be on at both ends): ") + e.what()));
    } catch (...) {
        failure = std::current_exception();
    }
    *settled = true;
    timer.cancel();
    if (*timed_out)
        failure = std::make_exception_ptr(std::system_error(
            asio::error::timed_out, "no multiplex hello from the peer in time (multiplex must be on at both ends)"));
    if (failure) {
        end(what_of(failure));
        std::rethrow_exception(failure);
    }
    started_ = true;
    asio::co_spawn(executor_, read_loop(self), asio::detached);
}

asio::awaitable<void> Multiplexer::read_hello() {
    in_.resize(input_size);
    for (;;) {
        if (auto decoded = decode_frame(ByteView(in_.data(), in_used_))) {
            const Frame& frame = decoded->first;
            if (frame.type != FrameType::hello)
                throw FrameError(fmt::format("its first frame is {}, not hello", to_string(frame.type)));
            peer_ = frame.hello;
            consume(decoded->second);
            co_return;
        }
        const std::size_t n = co_await channel_.read_some(asio::buffer(in_.data() + in_used_, in_.size() - in_used_));
        if (n == 0) throw std::system_error(asio::error::eof, "the peer closed the channel before its hello");
        in_used_ += n;
    }
}

void Multiplexer::consume(std::size_t n) {
    if (n < in_used_) std::memmove(in_.data(), in_.data() + n, in_used_ - n);
    in_used_ -= n;
}

asio::awaitable<void> Multiplexer::read_loop(std::shared_ptr<Multiplexer> self) {
    std::string why;
    try {
        for (;;) {
            self->consume(self->handle_frames(ByteView(self->in_.data(), self->in_used_)));
            if (self->over_) co_return;
            Bytes& in = self->in_;
            const std::size_t n =
                co_await self->channel_.read_some(asio::buffer(in.data() + self->in_used_, in.size() - self->in_used_));
            if (n == 0) {
                why = "end of stream";
                break;
            }
            self->in_used_ += n;
        }
    } catch (const FrameError& e) {
        why = std::string("protocol error: ") + e.what();
    } catch (const std::exception& e) {
        why = e.what();
    }
    self->end(why);
}

std::size_t Multiplexer::handle_frames(ByteView input) {
    std::size_t used = 0;
    while (!over_) {
        auto decoded = decode_frame(input.subspan(used));
        if (!decoded) break;
        handle(decoded->first);
        used += decoded->second;
    }
    return used;
}

StreamState* Multiplexer::find(std::uint32_t id, FrameType type) {
    if (auto it = streams_.find(id); it != streams_.end()) return it->second.get();
    // A stream this end closed: frames the peer sent before it learnt so.
    if (id <= last_id_) return nullptr;
    throw FrameError(fmt::format("{} frame for stream {}, which was never opened", to_string(type), id));
}

void Multiplexer::handle(const Frame& frame) {
    switch (frame.type) {
        case FrameType::hello: throw FrameError("a second hello");
        case FrameType::goaway:
            if (role_ == Role::server) throw FrameError("a goaway frame from the client");
            retire();
            return;
        case FrameType::open:
            if (role_ == Role::client) throw FrameError("an open frame from the server");
            handle_open(frame.stream);
            return;
        case FrameType::data: {
            StreamState* s = find(frame.stream, frame.type);
            if (!s) return;
            if (s->fin_received) throw FrameError(fmt::format("data after fin on stream {}", frame.stream));
            if (frame.payload.size() > s->rx_window)
                throw FrameError(fmt::format("stream {} sent {} bytes past its window of {}", frame.stream,
                                             frame.payload.size() - s->rx_window, s->rx_window));
            s->rx_window -= static_cast<std::uint32_t>(frame.payload.size());
            if (s->rx_begin > 0 && s->rx_begin >= s->rx.size() / 2) {
                s->rx.erase(s->rx.begin(), s->rx.begin() + static_cast<std::ptrdiff_t>(s->rx_begin));
                s->rx_begin = 0;
            }
            s->rx.insert(s->rx.end(), frame.payload.begin(), frame.payload.end());
            s->wake_reader(executor_);
            return;
        }
        case FrameType::window: {
            StreamState* s = find(frame.stream, frame.type);
            if (!s) return;
            if (std::uint64_t{s->tx_window} + frame.increment > max_window_limit)
                throw FrameError(fmt::format("window of stream {} grown past 2^31-1", frame.stream));
            s->tx_window += frame.increment;
            s->wake_writer();
            return;
        }
        case FrameType::fin: {
            StreamState* s = find(frame.stream, frame.type);
            if (!s) return;
            if (s->fin_received) throw FrameError(fmt::format("a second fin on stream {}", frame.stream));
            s->fin_received = true;
            s->wake_reader(executor_);
            return;
        }
        case FrameType::reset: {
            StreamState* s = find(frame.stream, frame.type);
            if (!s) return;
            s->ended = fmt::format("multiplexed stream reset by the peer ({})", to_string(frame.reason));
            s->reset_by_peer = true;
            s->rx = Bytes();
            s->rx_begin = 0;
            s->fin_received = false;
            unlist(*s);  // `s` stays alive: its Stream (or arrived_) holds it
            s->wake(executor_);
            return;
        }
    }
}

void Multiplexer::handle_open(std::uint32_t id) {
    if (id <= last_id_) throw FrameError(fmt::format("stream id {} not above the last one ({})", id, last_id_));
    last_id_ = id;
    if (streams_.size() >= options_.max_streams) {
        encode_reset(out_, id, ResetReason::refused);
        schedule_flush();
        return;
    }
    arrived_.push_back(make_state(id));
    arrived_signal_.notify();
}

std::shared_ptr<StreamState> Multiplexer::make_state(std::uint32_t id) {
    auto state = std::make_shared<StreamState>();
    state->id = id;
    state->rx_window = options_.window;
    state->rx_size = options_.window;
    state->tx_window = peer_.window;
    streams_.emplace(id, state);
    ++opened_;
    return state;
}

bool Multiplexer::can_open() const noexcept {
    return role_ == Role::client && started_ && !over_ && !retiring_ && streams_.size() < peer_.max_streams &&
           last_id_ < 0xffffffffu;
}

std::optional<Stream> Multiplexer::open() {
    if (!can_open()) return std::nullopt;
    const std::uint32_t id = ++last_id_;
    auto state = make_state(id);
    encode_open(out_, id);
    schedule_flush();
    return make_stream(shared_from_this(), std::move(state));
}

asio::awaitable<std::optional<Stream>> Multiplexer::accept() {
    auto self = shared_from_this();
    for (;;) {
        while (!arrived_.empty()) {
            auto state = std::move(arrived_.front());
            arrived_.pop_front();
            if (!state->ended) co_return make_stream(self, std::move(state));
        }
        if (over_) co_return std::nullopt;
        co_await arrived_signal_.wait();
    }
}

void Multiplexer::queue_data(StreamState& s, ByteView data) {
    s.tx_window -= static_cast<std::uint32_t>(data.size());
    while (!data.empty()) {
        const std::size_t n = std::min(max_data, data.size());
        encode_data(out_, s.id, data.first(n));
        data = data.subspan(n);
    }
    schedule_flush();
}

void Multiplexer::queue_window(StreamState& s, std::uint32_t increment) {
    if (over_) return;
    encode_window(out_, s.id, increment);
    schedule_flush();
}

void Multiplexer::queue_fin(StreamState& s) {
    encode_fin(out_, s.id);
    schedule_flush();
}

void Multiplexer::unlist(StreamState& s) {
    s.in_table = false;
    if (s.rx_size > options_.window) grown_ -= s.rx_size - options_.window;
    streams_.erase(s.id);
}

void Multiplexer::grant_window(StreamState& s) {
    std::uint32_t increment = s.rx_unacked;
    // Everything taken: the window, not the reader, holds this stream back.
    if (s.buffered() == 0 && s.rx_size < options_.max_window && grown_ < options_.window_growth_budget) {
        const std::size_t grow = std::min({std::size_t{s.rx_size}, std::size_t{options_.max_window - s.rx_size},
                                           options_.window_growth_budget - grown_});
        s.rx_size += static_cast<std::uint32_t>(grow);
        grown_ += grow;
        increment += static_cast<std::uint32_t>(grow);
    }
    queue_window(s, increment);
    s.rx_window += increment;
    s.rx_unacked = 0;
}

void Multiplexer::forget(StreamState& s, bool reset) {
    if (!s.in_table) return;
    if (reset && !over_) {
        encode_reset(out_, s.id, ResetReason::aborted);
        schedule_flush();
    }
    unlist(s);
    if (retiring_ && streams_.empty()) close();
}

asio::awaitable<void> Multiplexer::output_drained() {
    auto self = shared_from_this();
    while (!over_ && output_full()) co_await drained_signal_.wait();
}

void Multiplexer::schedule_flush() {
    if (flush_scheduled_ || writing_ || over_) return;
    flush_scheduled_ = true;
    // Posted: the writes every stream makes in this turn of the loop go out together.
    asio::post(executor_, [self = shared_from_this()] {
        self->flush_scheduled_ = false;
        self->flush_now();
    });
}

void Multiplexer::flush_now() {
    if (over_ || writing_ || out_.empty()) return;
    std::size_t sent = 0;
    try {
        while (sent < out_.size() && !channel_.output_pending()) {
            const std::optional<std::size_t> n = channel_.try_write_some(asio::buffer(out_.data() + sent, out_.size() - sent));
            if (!n) break;
            sent += *n;
        }
    } catch (const std::exception& e) {
        end(std::string("write: ") + e.what());
        return;
    }
    out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(sent));
    if (out_.empty() && !channel_.output_pending()) {
        drained();
        return;
    }
    writing_ = true;
    asio::co_spawn(executor_, write_loop(shared_from_this()), asio::detached);
}

asio::awaitable<void> Multiplexer::write_loop(std::shared_ptr<Multiplexer> self) {
    try {
        for (;;) {
            if (self->channel_.output_pending()) co_await self->channel_.flush();
            if (self->over_ || self->out_.empty()) break;
            self->sending_.swap(self->out_);
            self->drained();
            co_await write_all(self->channel_, asio::buffer(self->sending_));
            self->sending_.clear();
        }
    } catch (...) {
        self->end("write: " + what_of(std::current_exception()));
    }
    self->writing_ = false;
    if (self->goodbye_) co_await goodbye(self);
}

asio::awaitable<void> Multiplexer::goodbye(std::shared_ptr<Multiplexer> self) {
    self->goodbye_ = false;
    try {
        co_await self->channel_.shutdown_send();
    } catch (const std::exception&) {
        // The peer is gone already: nothing to tell it.
    }
    self->channel_.close();
    self->closed();
}

void Multiplexer::closed() noexcept {
    if (auto done = std::exchange(over_hook_, nullptr)) done();
}

void Multiplexer::drained() {
    if (!output_full()) drained_signal_.notify();
}

void Multiplexer::close() noexcept { end("closed", true); }

void Multiplexer::go_away() noexcept {
    if (role_ != Role::server || over_ || went_away_) return;
    went_away_ = true;
    encode_goaway(out_);
    schedule_flush();
}

void Multiplexer::retire() noexcept {
    retiring_ = true;
    if (streams_.empty()) close();
}

void Multiplexer::end(std::string why, bool graceful) noexcept {
    if (over_) return;
    over_ = true;
    end_reason_ = std::move(why);
    for (auto& [id, s] : streams_) {
        s->in_table = false;
        if (!s->ended) s->ended = "multiplex channel ended: " + end_reason_;
        s->wake(executor_);
    }
    streams_.clear();
    grown_ = 0;
    arrived_.clear();
    arrived_signal_.notify();
    drained_signal_.notify();
    if (!graceful || !started_) {
        channel_.close();
        closed();
        return;
    }
    goodbye_ = true;
    // With a write in flight, write_loop says goodbye once it is out.
    if (!writing_) asio::co_spawn(executor_, goodbye(shared_from_this()), asio::detached);
}

}  // namespace authchain::mux
