#include <authchain/relay/multiplex.hpp>

#include <asio/co_spawn.hpp>
#include <asio/execution/context.hpp>
#include <asio/post.hpp>
#include <asio/query.hpp>
#include <asio/this_coro.hpp>
#include <optional>
#include <system_error>
#include <vector>

#include <authchain/relay/connect.hpp>
#include <authchain/relay/detail/signal.hpp>

namespace authchain {

namespace {

using clock = std::chrono::steady_clock;

struct ServeTarget {
    Handler per_stream;
    mux::SessionOptions options;
    ChannelReport report;
    std::shared_ptr<ChannelSet> channels;
};

// The per_stream handlers of one channel still running.
struct Running {
    explicit Running(const asio::any_io_executor& executor) : none_left(executor) {}
    std::size_t count = 0;
    detail::Signal none_left;
};

asio::awaitable<void> serve_channel(std::shared_ptr<const ServeTarget> target, Session channel) {
    const auto started = clock::now();
    auto executor = co_await asio::this_coro::executor;
    ChannelSummary summary;
    auto m = mux::Multiplexer::create(std::move(channel.stream), mux::Role::server, target->options);
    std::optional<LiveForwards::Guard> listed;
    if (target->channels) listed.emplace(target->channels->add(m));
    try {
        co_await m->start();
        summary.started = true;
    } catch (const std::exception& e) {
        summary.end_reason = e.what();
    }
    auto running = std::make_shared<Running>(executor);
    while (summary.started) {
        std::optional<Stream> stream = co_await m->accept();
        if (!stream) break;
        Session session{std::move(*stream), channel.credentials, channel.handshake};
        ++running->count;
        asio::co_spawn(executor, target->per_stream(std::move(session)), [running](const std::exception_ptr&) {
            if (--running->count == 0) running->none_left.notify();
        });
    }
    // The channel is over: its streams are reset, their handlers end soon.
    while (running->count > 0) co_await running->none_left.wait();
    if (summary.started) summary.end_reason = m->end_reason();
    summary.streams = m->streams_opened();
    summary.duration = clock::now() - started;
    listed.reset();
    m.reset();
    if (target->report) target->report(channel, summary);
}

}  // namespace

LiveForwards::Guard ChannelSet::add(const std::shared_ptr<mux::Multiplexer>& channel) {
    return channels_->add(channel->executor(), [weak = std::weak_ptr(channel)] {
        if (auto c = weak.lock()) c->go_away();
    });
}

Handler serve_multiplexed(Handler per_stream, mux::SessionOptions options, ChannelReport report,
                          std::shared_ptr<ChannelSet> channels) {
    mux::validate(options);
    auto target = std::make_shared<const ServeTarget>(
        ServeTarget{std::move(per_stream), options, std::move(report), std::move(channels)});
    return [target](Session session) { return serve_channel(target, std::move(session)); };
}

// The channels of one loop; touched from that loop's thread only.
struct MultiplexDialer::Loop {
    explicit Loop(const asio::any_io_executor& e) : executor(e), settled(e) {}
    asio::any_io_executor executor;
    std::vector<Channel> channels;
    bool connecting = false;
    bool retired = false;                 // DialOptions::live stopped: no new channel
    std::uint64_t attempt = 0;            // connections tried so far
    std::exception_ptr failure;           // of attempt number `attempt`, if it failed
    detail::Signal settled;               // a connection attempt ended
    std::optional<LiveForwards::Guard> stop_hook;
};

MultiplexDialer::MultiplexDialer(Endpoint server, DialOptions options)
    : server_(std::move(server)), options_(std::move(options)) {
    mux::validate(options_.session);
}

MultiplexDialer::~MultiplexDialer() {
    std::lock_guard lock(mutex_);
    for (auto& [key, loop] : loops_)
        for (auto& channel : loop->channels)
            asio::post(loop->executor, [m = channel.mux] { m->close(); });
}

MultiplexDialer::Loop& MultiplexDialer::loop_of(const asio::any_io_executor& executor) {
    const void* key = &asio::query(executor, asio::execution::context);
    std::lock_guard lock(mutex_);
    auto& loop = loops_[key];
    if (!loop) {
        loop = std::make_unique<Loop>(executor);
        if (options_.live) {
            // Runs on the loop: retire its channels (they close once their streams are over).
            Loop* raw = loop.get();
            loop->stop_hook.emplace(options_.live->on_stop(executor, [weak = weak_from_this(), raw] {
                auto self = weak.lock();
                if (!self) return;
                raw->retired = true;
                for (Channel& channel : raw->channels) channel.mux->retire();
            }));
        }
    }
    return *loop;
}

asio::awaitable<MultiplexDialer::Channel> MultiplexDialer::connect() {
    Stream stream = co_await connect_to(server_, options_.connect_timeout, options_.keepalive);
    Session session = co_await authenticate(std::move(stream), options_.client_chain, options_.client);
    auto credentials = std::make_shared<const Credentials>(std::move(session.credentials));
    auto m = mux::Multiplexer::create(std::move(session.stream), mux::Role::client, options_.session);
    co_await m->start();
    if (options_.live) {
        // Counted with the forwards until it is closed, so a graceful stop
        // waits for its close record (it retires at the stop: stop_hook).
        struct Registered {
            std::shared_ptr<LiveForwards> live;        // outlives the guard (declared first)
            std::optional<LiveForwards::Guard> guard;
        };
        auto registered = std::make_shared<Registered>();
        registered->live = options_.live;
        registered->guard.emplace(options_.live->add(m->executor(), [weak = std::weak_ptr(m)] {
            if (auto channel = weak.lock()) channel->close();
        }));
        m->on_over([registered] { registered->guard.reset(); });
    }
    co_return Channel{std::move(m), std::move(credentials)};
}

asio::awaitable<OpenedStream> MultiplexDialer::open() {
    auto self = shared_from_this();
    Loop& loop = loop_of(co_await asio::this_coro::executor);
    for (;;) {
        std::erase_if(loop.channels, [](const Channel& c) { return !c.mux->alive(); });
        for (Channel& channel : loop.channels) {
            if (!channel.mux->can_open()) continue;
            OpenedStream opened{std::move(*channel.mux->open()), channel.credentials};
            co_return opened;
        }
        if (loop.retired) throw std::system_error(asio::error::shut_down, "the tunnel is stopping");
        if (loop.connecting) {
            // Another connection of this loop is opening a channel: share its outcome.
            const std::uint64_t attempt = loop.attempt;
            while (loop.connecting && loop.attempt == attempt) co_await loop.settled.wait();
            if (loop.attempt == attempt && loop.failure) std::rethrow_exception(loop.failure);
            continue;
        }
        loop.connecting = true;
        loop.failure = nullptr;
        ++loop.attempt;
        try {
            Channel channel = co_await connect();
            loop.channels.push_back(std::move(channel));
        } catch (...) {
            loop.failure = std::current_exception();
        }
        loop.connecting = false;
        loop.settled.notify();
        if (loop.failure) std::rethrow_exception(loop.failure);
    }
}

std::function<asio::awaitable<OpenedStream>()> MultiplexDialer::opener() {
    return [self = shared_from_this()] { return self->open(); };
}

}  // namespace authchain
