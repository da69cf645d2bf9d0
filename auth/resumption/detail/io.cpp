#include <authchain/auth/resumption/detail/io.hpp>

#include <algorithm>

#include <authchain/auth/resumption.hpp>
#include <authchain/compose/error.hpp>

namespace authchain {

Bytes resumption_channel_binding(const Stream& stream) {
    Protection p = stream.protection();
    if (!p.confidential || p.channel_id.empty())
        deny(DenyReason::protocol_error,
             "resumption on a stream that is not confidential or has no channel id (" + p.transport +
                 "): put secure_channel or tls before it");
    return p.channel_id;
}

bool resumed(const Credentials& credentials) {
    const auto& log = credentials.log();
    return std::any_of(log.begin(), log.end(),
                       [](const Proof& p) { return p.layer == resumption_layer && p.fact == "resumed"; });
}

void require_same_channel(const Session& session, ByteView channel_id) {
    Bytes now = session.stream.protection().channel_id;
    if (!std::equal(now.begin(), now.end(), channel_id.begin(), channel_id.end()))
        deny(DenyReason::internal_error,
             "resumption: a layer after it changed the stream (a second transport?); a ticket cannot "
             "stand in for a transport, so put resumption after the last transport layer");
}

}  // namespace authchain
