// authchain probe: run the client chain once against the gate and say what
// the server proved to be. Exit 0 ok, 3 denied, 4 network error.
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_future.hpp>
#include <array>
#include <csignal>
#include <cstdio>

#include <authchain/compose/deadline.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/compose/text.hpp>
#include <authchain/relay/connect.hpp>
#include "tools/commands.hpp"

namespace authchain::tools {

namespace {

struct Outcome {
    int status = 0;
    std::string text;    // stdout (ok, or the coarse reason); stderr for network errors
    std::string detail;  // stderr: the local detail of a refusal
};

void line(std::string& out, const char* label, const std::string& value) {
    out += label;
    out += value;
    out += '\n';
}

std::string describe(const Endpoint& server, const Session& s) {
    const Credentials& c = s.credentials;
    Protection p = s.stream.protection();
    std::string out;
    line(out, "server   ", server.to_string());
    line(out, "host     ", c.host_name.value_or("(not proven)"));
    line(out, "key      ", c.key_type.value_or("-") + " " + c.key_fingerprint.value_or("(not proven)"));
    if (c.cert_subject) {
        line(out, "cert     ", *c.cert_subject + " serial " + c.cert_serial.value_or("?") + " until " +
                                   c.cert_not_after.value_or("?"));
        line(out, "spki     ", c.cert_fingerprint.value_or("?"));
    }
    std::string channel = p.transport.empty() ? "?" : p.transport;
    channel += p.confidential ? " (confidential" : " (not confidential";
    if (!p.channel_id.empty()) channel += ", channel id " + to_hex(p.channel_id).substr(0, 16) + "...";
    channel += ")";
    line(out, "channel  ", channel);
    line(out, "layers   ", join(c.layers(), ", "));
    out += "ok\n";
    return out;
}

// Ends the session cleanly (half-close, then wait for the gate's end of
// stream, bounded), so the gate logs a normal close, not a truncation.
asio::awaitable<void> say_goodbye(Stream& stream, std::chrono::milliseconds limit) {
    auto executor = co_await asio::this_coro::executor;
    Deadline deadline(executor, limit, [&stream] { stream.close(); });
    try {
        co_await stream.shutdown_send();
        std::array<std::uint8_t, 4096> sink{};
        while (co_await stream.read_some(asio::buffer(sink)) > 0) {
        }
    } catch (const std::exception&) {
        // Whatever the gate does now, the probe has its answer.
    }
    deadline.cancel();
    stream.close();
}

asio::awaitable<Outcome> probe(const TunnelConfig& config) {
    Stream stream;
    try {
        stream = co_await connect_to(config.server, config.handshake_timeout);
    } catch (const std::exception& e) {
        co_return Outcome{4, "network error: " + config.server.to_string() + ": " + e.what() + "\n", ""};
    }
    try {
        ClientOptions options{.handshake_timeout = config.handshake_timeout};
        Session session = co_await authenticate(std::move(stream), config.chain, options);
        Outcome ok{0, describe(config.server, session), ""};
        co_await say_goodbye(session.stream, config.handshake_timeout);
        co_return ok;
    } catch (const AuthenticationError& e) {
        co_return Outcome{3, "denied: " + std::string(to_string(e.reason())) + "\n", e.detail()};
    } catch (const std::exception& e) {
        co_return Outcome{4, "network error: " + config.server.to_string() + ": " + e.what() + "\n", ""};
    }
}

}  // namespace

int run_probe(const TunnelConfig& config) {
    std::signal(SIGPIPE, SIG_IGN);
    asio::io_context io;
    auto future = asio::co_spawn(io, probe(config), asio::use_future);
    io.run();
    Outcome outcome;
    try {
        outcome = future.get();
    } catch (const std::exception& e) {
        outcome = Outcome{4, std::string("error: ") + e.what() + "\n", ""};
    }
    std::fputs(outcome.text.c_str(), outcome.status == 4 ? stderr : stdout);
    if (!outcome.detail.empty()) std::fprintf(stderr, "detail: %s\n", outcome.detail.c_str());
    return outcome.status;
}

}  // namespace authchain::tools
