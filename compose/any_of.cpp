// any_of, both sides (protocol in compose/any_of.hpp).
#include <authchain/compose/any_of.hpp>

#include <algorithm>
#include <array>
#include <asio/buffer.hpp>
#include <optional>
#include <stdexcept>

#include <authchain/compose/detail/any_of_messages.hpp>
#include <authchain/compose/frame.hpp>
#include <authchain/compose/detail/bound_stream.hpp>
#include <authchain/compose/text.hpp>

namespace authchain {

namespace {

using namespace authchain::detail;

struct State {
    std::vector<Method> methods;
    AnyOfOptions options;
};

std::shared_ptr<const State> checked(std::vector<Method> methods, AnyOfOptions options) {
    if (methods.empty() || methods.size() > max_any_of_methods)
        throw std::invalid_argument("any_of: give 1 to 16 methods");
    if (options.max_attempts < 1 || options.max_attempts > 16)
        throw std::invalid_argument("any_of: max_attempts must be 1..16");
    for (std::size_t i = 0; i < methods.size(); ++i) {
        if (!valid_method_name(methods[i].name))
            throw std::invalid_argument("any_of: invalid method name \"" + methods[i].name + "\" (1 to 32 of a-z 0-9 _ . -)");
        if (!methods[i].authenticator) throw std::invalid_argument("any_of: method " + methods[i].name + " is empty");
        for (std::size_t j = 0; j < i; ++j)
            if (methods[j].name == methods[i].name)
                throw std::invalid_argument("any_of: method \"" + methods[i].name + "\" given twice");
    }
    return std::make_shared<const State>(State{std::move(methods), std::move(options)});
}

// The negotiation so far: every any_of frame, both directions, in order.
struct Negotiation {
    std::shared_ptr<Stream> home;
    Bytes transcript;

    asio::awaitable<void> send(Bytes frame) {
        transcript.insert(transcript.end(), frame.begin(), frame.end());
        co_await write_all(*home, asio::buffer(frame));
    }
    asio::awaitable<Bytes> receive(std::string_view what) {
        Bytes body = co_await read_frame(*home, max_any_of_message, what);
        Bytes framed = frame(body);  // the transcript holds what was on the wire
        transcript.insert(transcript.end(), framed.begin(), framed.end());
        co_return body;
    }
    // A session for the chosen method: a copy of `base` over the bound stream.
    Session session_for(const Session& base) {
        Bytes cid = home->protection().channel_id;
        Bytes bound = cid.empty() ? Bytes{} : bound_channel_id(cid, transcript);
        Session s{bind_channel(home, std::move(bound)), base.credentials, base.handshake};
        s.stream.trail()->track(s.credentials);
        return s;
    }
};

// After a failed attempt: the trail follows the proof log of the session as
// it was before (the failed method's facts are dropped with its session), and
// a failure after which another attempt follows (`why` not null) is reported.
void report_failure(const State& state, const Negotiation& n, const Session& base, const AuthenticationError* why) {
    n.home->trail()->track(base.credentials);
    if (why && state.options.on_failed_attempt) state.options.on_failed_attempt(base.credentials, *why);
}

asio::awaitable<Session> serve(std::shared_ptr<const State> state, Session session) {
    Negotiation n{std::make_shared<Stream>(std::move(session.stream)), {}};
    Session base{Stream{}, session.credentials, session.handshake};
    std::vector<std::string> left;
    for (const auto& m : state->methods) left.push_back(m.name);
    std::size_t attempts_left = state->options.max_attempts;
    for (;;) {
        // (Named values, not temporaries, inside co_await: g++ 12, PLATFORM.md.)
        Offer offer{static_cast<std::uint8_t>(attempts_left), left};
        Bytes a1 = encode_offer(offer);
        co_await n.send(std::move(a1));
        std::string choice = decode_choice(co_await n.receive("A2"));
        if (choice.empty())
            deny(DenyReason::denied, "any_of: the client has none of the methods offered (" + join(left, ", ") + ")");
        auto offered = std::find(left.begin(), left.end(), choice);
        if (offered == left.end())
            deny(DenyReason::denied, "any_of: the client chose \"" + choice + "\", which was not offered (" +
                                         join(left, ", ") + ")");
        const Method& method = *std::find_if(state->methods.begin(), state->methods.end(),
                                             [&](const Method& m) { return m.name == choice; });
        --attempts_left;

        // The method's own exchange; only a completed refusal (denied) leaves the stream usable.
        std::optional<Session> done;
        std::optional<AuthenticationError> failure;
        try {
            Session attempt = n.session_for(base);
            done = co_await method.authenticator(std::move(attempt));
        } catch (const AuthenticationError& e) {
            if (e.reason() != DenyReason::denied) throw;
            failure = e;
        }
        // Attempts left if this one fails: none once no other method is left.
        std::size_t remaining = left.size() > 1 ? attempts_left : 0;
        Verdict verdict{done.has_value(), static_cast<std::uint8_t>(remaining)};
        Bytes a3 = encode_server_verdict(verdict);
        co_await n.send(std::move(a3));
        bool client_ok = decode_client_verdict(co_await n.receive("A4"));
        if (done && client_ok) {
            done->credentials.note("any_of", "method " + choice);
            co_return std::move(*done);
        }
        if (!failure) failure = AuthenticationError(DenyReason::denied, "any_of: method " + choice + ": the client failed it");
        AuthenticationError why(failure->reason(), "any_of: method " + choice + ": " + failure->detail());
        left.erase(offered);
        report_failure(*state, n, base, remaining == 0 ? nullptr : &why);
        if (remaining == 0) throw why;
    }
}

asio::awaitable<Session> authenticate(std::shared_ptr<const State> state, Session session) {
    Negotiation n{std::make_shared<Stream>(std::move(session.stream)), {}};
    Session base{Stream{}, session.credentials, session.handshake};
    std::vector<std::string> tried;
    std::size_t attempts = 0;
    for (;;) {
        Offer offer = decode_offer(co_await n.receive("A1"));
        const Method* pick = nullptr;
        if (attempts < state->options.max_attempts)
            for (const auto& m : state->methods)
                if (std::find(offer.methods.begin(), offer.methods.end(), m.name) != offer.methods.end() &&
                    std::find(tried.begin(), tried.end(), m.name) == tried.end()) {
                    pick = &m;
                    break;
                }
        if (!pick) {
            Bytes none = encode_choice("");
            co_await n.send(std::move(none));
            deny(DenyReason::denied, "any_of: no method left in common (server offers " + join(offer.methods, ", ") +
                                         "; tried " + (tried.empty() ? std::string("none") : join(tried, ", ")) + ")");
        }
        Bytes a2 = encode_choice(pick->name);
        co_await n.send(std::move(a2));
        tried.push_back(pick->name);
        ++attempts;

        std::optional<Session> done;
        std::optional<AuthenticationError> failure;
        try {
            Session attempt = n.session_for(base);
            done = co_await pick->authenticator(std::move(attempt));
        } catch (const RefusedByPeer& e) {
            failure = e;  // the server said no and the method's exchange is complete
        }
        Verdict server = decode_server_verdict(co_await n.receive("A3"));
        Bytes a4 = encode_client_verdict(done.has_value());
        co_await n.send(std::move(a4));
        if (done && server.accepted) {
            done->credentials.note("any_of", "method " + pick->name);
            co_return std::move(*done);
        }
        AuthenticationError why(DenyReason::denied, "any_of: method " + pick->name + ": " +
                                                        (failure ? failure->detail() : "the server refused it"));
        report_failure(*state, n, base, server.attempts_left == 0 ? nullptr : &why);
        if (server.attempts_left == 0) throw why;
    }
}

}  // namespace

Authenticator any_of(std::vector<Method> methods, AnyOfOptions options) {
    auto state = checked(std::move(methods), std::move(options));
    return [state](Session session) { return serve(state, std::move(session)); };
}

namespace client {
Authenticator any_of(std::vector<Method> methods, AnyOfOptions options) {
    auto state = checked(std::move(methods), std::move(options));
    return [state](Session session) { return authenticate(state, std::move(session)); };
}
}  // namespace client

}  // namespace authchain
