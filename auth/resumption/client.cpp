// resumption, client side: R1 out; then R2 in and the kept facts, or the
// layers after it and R3 in (protocol in auth/resumption.hpp).
#include <asio/buffer.hpp>
#include <stdexcept>
#include <utility>

#include <authchain/auth/resumption.hpp>
#include <authchain/auth/resumption/detail/io.hpp>
#include <authchain/auth/resumption/detail/ticket_store.hpp>
#include <authchain/compose/error.hpp>
#include <authchain/transport/endpoint.hpp>

namespace authchain {

namespace {

// Where a ticket is kept: the address the client reached (one ticket per server).
std::string server_of(const Session& session) {
    return session.credentials.peer ? endpoint_text(*session.credentials.peer) : std::string();
}

// R1 resume, R2 in. True when resumed (the kept facts are then proven
// again); false when the server did not know the ticket.
asio::awaitable<bool> try_resume(detail::ClientTicketStore& store, const std::string& server,
                                 const detail::ClientTicketStore::Ticket& ticket, ByteView channel_id,
                                 Session& session) {
    ResumptionR1 r1{.resume = ResumptionR1::Resume{
                        .id = ticket.id,
                        .proof = resumption_proof(ticket.secret, ResumptionRole::client, channel_id, ticket.id)}};
    Bytes r1_frame = encode_resumption_r1(r1);
    co_await write_all(session.stream, asio::buffer(r1_frame));
    ResumptionR2 r2 =
        decode_resumption_r2(co_await read_frame(session.stream, max_resumption_message, "resumption R2"));
    switch (r2.verdict) {
        case ResumptionVerdict::unknown:
            store.forget(server, ticket.id);
            co_return false;
        case ResumptionVerdict::denied:
            store.forget(server, ticket.id);
            refused_by_peer("the server refused the resumption ticket's proof");
        case ResumptionVerdict::resumed:
            break;
    }
    ResumptionProof expected = resumption_proof(ticket.secret, ResumptionRole::server, channel_id, ticket.id);
    if (!hmac_proofs_equal(expected, r2.proof)) {
        store.forget(server, ticket.id);
        deny(DenyReason::denied,
             "resumption: the server did not prove the ticket's secret (not the server that issued it)");
    }
    session.credentials.note(resumption_layer, "resumed");
    session.credentials.restore(ticket.facts->credentials, ticket.facts->first);
    co_return true;
}

asio::awaitable<Session> connect(std::shared_ptr<client::ResumptionTickets> tickets, Authenticator rest,
                                 Session session) {
    require_side(session, ConnectionTrail::Side::client, resumption_layer);
    Bytes channel_id = resumption_channel_binding(session.stream);
    detail::ClientTicketStore& store = tickets->store();
    std::string server = server_of(session);

    if (auto ticket = store.find(server)) {
        if (co_await try_resume(store, server, *ticket, channel_id, session)) co_return session;
    } else {
        Bytes r1 = encode_resumption_r1({});
        co_await write_all(session.stream, asio::buffer(r1));
    }

    // The full path: the layers after this one, then the server's ticket.
    std::size_t first = session.credentials.log().size();
    Session done = co_await rest(std::move(session));
    require_same_channel(done, channel_id);
    ResumptionR3 r3 =
        decode_resumption_r3(co_await read_frame(done.stream, max_resumption_message, "resumption R3"));
    store.keep(server, r3, std::make_shared<detail::KeptFacts>(detail::KeptFacts{done.credentials, first}));
    done.credentials.note(resumption_layer, "ticket kept");
    co_return done;
}

}  // namespace

namespace client {

ResumptionTickets::ResumptionTickets(ResumptionOptions options) {
    if (options.max_servers == 0) throw std::invalid_argument("resumption: max_servers must be at least 1");
    store_ = std::make_unique<detail::ClientTicketStore>(options.max_servers, std::move(options.clock));
}

ResumptionTickets::~ResumptionTickets() = default;

std::size_t ResumptionTickets::size() const { return store_->size(); }

void ResumptionTickets::forget_all() { store_->forget_all(); }

Wrapper resumption(std::shared_ptr<ResumptionTickets> tickets) {
    if (!tickets) throw std::invalid_argument("resumption: no tickets");
    return Wrapper([tickets = std::move(tickets)](Authenticator rest) -> Authenticator {
        return [tickets, rest = std::move(rest)](Session session) {
            return connect(tickets, rest, std::move(session));
        };
    });
}

Wrapper resumption(ResumptionOptions options) {
    return resumption(std::make_shared<ResumptionTickets>(std::move(options)));
}

}  // namespace client

}  // namespace authchain
