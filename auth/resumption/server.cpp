// resumption, server side: R1 in; then R2 out and the kept facts, or the
// layers after it and R3 out (protocol in auth/resumption.hpp).
#include <asio/buffer.hpp>
#include <stdexcept>
#include <utility>

#include <authchain/auth/resumption.hpp>
#include <authchain/auth/resumption/detail/io.hpp>
#include <authchain/auth/resumption/detail/ticket_store.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

namespace {

// Tells the client no (R2 denied), then throws; the driver sends the transport's deny.
asio::awaitable<void> refuse_ticket(Stream& stream) {
    try {
        Bytes r2 = encode_resumption_r2({.verdict = ResumptionVerdict::denied, .proof = {}});
        co_await write_all(stream, asio::buffer(r2));
    } catch (const std::exception&) {
        // The client is gone: nothing more to tell it.
    }
    deny(DenyReason::denied,
         "resumption: the ticket's proof does not verify (a ticket id without its secret, or a proof "
         "replayed or relayed from another connection)");
}

asio::awaitable<Session> serve(std::shared_ptr<ResumptionTickets> tickets, Authenticator rest, Session session) {
    require_side(session, ConnectionTrail::Side::server, resumption_layer);
    Bytes channel_id = resumption_channel_binding(session.stream);
    detail::ServerTicketStore& store = tickets->store();

    ResumptionR1 r1 =
        decode_resumption_r1(co_await read_frame(session.stream, max_resumption_message, "resumption R1"));
    if (r1.resume) {
        if (auto found = store.find(r1.resume->id)) {
            ResumptionProof expected =
                resumption_proof(found->secret, ResumptionRole::client, channel_id, r1.resume->id);
            if (!hmac_proofs_equal(expected, r1.resume->proof)) co_await refuse_ticket(session.stream);
            ResumptionR2 r2{.verdict = ResumptionVerdict::resumed,
                            .proof = resumption_proof(found->secret, ResumptionRole::server, channel_id,
                                                      r1.resume->id)};
            Bytes r2_frame = encode_resumption_r2(r2);
            co_await write_all(session.stream, asio::buffer(r2_frame));
            session.credentials.note(resumption_layer, "resumed");
            session.credentials.restore(found->facts->credentials, found->facts->first);
            co_return session;
        }
        Bytes r2 = encode_resumption_r2({.verdict = ResumptionVerdict::unknown, .proof = {}});
        co_await write_all(session.stream, asio::buffer(r2));
    }

    // The full path: the layers after this one, then a ticket for what they proved.
    std::size_t first = session.credentials.log().size();
    Session done = co_await rest(std::move(session));
    require_same_channel(done, channel_id);
    auto facts = std::make_shared<detail::KeptFacts>(detail::KeptFacts{done.credentials, first});
    Bytes r3 = encode_resumption_r3(store.issue(std::move(facts)));
    co_await write_all(done.stream, asio::buffer(r3));
    done.credentials.note(resumption_layer, "ticket issued");
    co_return done;
}

std::unique_ptr<detail::ServerTicketStore> make_store(const ResumptionOptions& options) {
    if (options.lifetime < std::chrono::seconds(1) || options.lifetime > resumption_max_lifetime)
        throw std::invalid_argument("resumption: lifetime " + std::to_string(options.lifetime.count()) +
                                    " s out of range 1.." + std::to_string(resumption_max_lifetime.count()));
    if (options.max_tickets == 0) throw std::invalid_argument("resumption: max_tickets must be at least 1");
    return std::make_unique<detail::ServerTicketStore>(options.lifetime, options.max_tickets, options.clock);
}

}  // namespace

ResumptionTickets::ResumptionTickets(ResumptionOptions options)
    : options_(std::move(options)), store_(make_store(options_)) {}

ResumptionTickets::~ResumptionTickets() = default;

const ResumptionOptions& ResumptionTickets::options() const noexcept { return options_; }

std::size_t ResumptionTickets::size() const { return store_->size(); }

void ResumptionTickets::forget_all() { store_->forget_all(); }

Wrapper resumption(std::shared_ptr<ResumptionTickets> tickets) {
    if (!tickets) throw std::invalid_argument("resumption: no tickets");
    return Wrapper([tickets = std::move(tickets)](Authenticator rest) -> Authenticator {
        return [tickets, rest = std::move(rest)](Session session) { return serve(tickets, rest, std::move(session)); };
    });
}

Wrapper resumption(ResumptionOptions options) {
    return resumption(std::make_shared<ResumptionTickets>(std::move(options)));
}

}  // namespace authchain
