#include <authchain/relay/multiplex.hpp>

#include <asio/async_result.hpp>
#include <asio/co_spawn.hpp>
#include <asio/execution/context.hpp>
#include <asio/post.hpp>
#include <asio/query.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <vector>

#include <authchain/relay/connect.hpp>
#include <authchain/relay/detail/wait_for.hpp>

namespace authchain {

namespace {

using clock = std::chrono::steady_clock;


struct ServeTarget {
    Handler per_stream;
    mux::SessionOptions options;
    ChannelReport report;
};

// The per_stream handlers of one channel still running.
struct Running {
    std::size_t count = 0;
    std::function<void()> all_done;
};

asio::awaitable<void> serve_channel(std::shared_ptr<const ServeTarget> target, Session channel) {
    const auto started = clock::now();
    auto executor = co_await asio::this_coro::executor;
    ChannelSummary summary;
    auto m = mux::Multiplexer::create(std::move(channel.stream), mux::Role::server, target->options);
    try {
        co_await m->start();
        summary.started = true;
    } catch (const std::exception& e) {
        summary.end_reason = e.what();
    }
    auto running = std::make_shared<Running>();
    while (summary.started) {
        std::optional<Stream> stream = co_await m->accept();
        if (!stream) break;
        Session session{std::move(*stream), channel.credentials, channel.handshake};
        ++running->count;
        asio::co_spawn(executor, target->per_stream(std::move(session)), [running](const std::exception_ptr&) {
            if (--running->count == 0 && running->all_done) std::exchange(running->all_done, nullptr)();
        });
    }
    // The channel is over: its streams are reset, their handlers end soon.
    while (running->count > 0)
        co_await authchain::detail::wait_for<void()>([&running](std::function<void()> done) { running->all_done = std::move(done); });
    if (summary.started) summary.end_reason = m->end_reason();
    summary.streams = m->streams_opened();
    summary.duration = clock::now() - started;
    m.reset();
    if (target->report) target->report(channel, summary);
}

}  // namespace

Handler serve_multiplexed(Handler per_stream, mux::SessionOptions options, ChannelReport report) {
    mux::validate(options);
    auto target = std::make_shared<const ServeTarget>(ServeTarget{std::move(per_stream), options, std::move(report)});
    return [target](Session session) { return serve_channel(target, std::move(session)); };
}

// The channels of one loop; touched from that loop's thread only.
struct MultiplexDialer::Loop {
    asio::any_io_executor executor;
    std::vector<Channel> channels;
    bool connecting = false;
    std::uint64_t attempt = 0;            // connections tried so far
    std::exception_ptr failure;           // of attempt number `attempt`, if it failed
    std::vector<std::function<void()>> waiting;
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
        loop = std::make_unique<Loop>();
        loop->executor = executor;
    }
    return *loop;
}

asio::awaitable<MultiplexDialer::Channel> MultiplexDialer::connect() {
    Stream stream = co_await connect_to(server_, options_.connect_timeout, options_.keepalive);
    Session session = co_await authenticate(std::move(stream), options_.client_chain, options_.client);
    auto credentials = std::make_shared<const Credentials>(std::move(session.credentials));
    auto m = mux::Multiplexer::create(std::move(session.stream), mux::Role::client, options_.session);
    co_await m->start();
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
        if (loop.connecting) {
            // Another connection of this loop is opening a channel: share its outcome.
            const std::uint64_t attempt = loop.attempt;
            co_await authchain::detail::wait_for<void()>([&loop](std::function<void()> done) { loop.waiting.push_back(std::move(done)); });
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
        for (auto& done : loop.waiting) asio::post(loop.executor, std::move(done));
        loop.waiting.clear();
        if (loop.failure) std::rethrow_exception(loop.failure);
    }
}

std::function<asio::awaitable<OpenedStream>()> MultiplexDialer::opener() {
    return [self = shared_from_this()] { return self->open(); };
}

}  // namespace authchain
