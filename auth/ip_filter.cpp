#include <authchain/auth/ip_filter.hpp>

#include <memory>

namespace authchain {

namespace {

std::vector<Cidr> parse_list(const std::vector<std::string>& texts, const char* list) {
    std::vector<Cidr> out;
    try {
        for (const auto& text : texts) out.push_back(Cidr::parse(text));
    } catch (const std::invalid_argument& e) {
        throw IpFilterError(list, e);
    }
    return out;
}

}  // namespace

IpFilter::IpFilter(const IpFilterOptions& options)
    : allow_(parse_list(options.allow, "allow")), deny_(parse_list(options.deny, "deny")) {}

std::string IpFilter::refusal(const asio::ip::address& raw) const {
    auto address = normalize(raw);
    for (const auto& block : deny_)
        if (block.contains(address)) return address.to_string() + " is in deny " + block.to_string();
    if (allow_.empty()) return {};
    for (const auto& block : allow_)
        if (block.contains(address)) return {};
    return address.to_string() + " is not in the allow list";
}

namespace {

asio::awaitable<Session> run_ip_filter(std::shared_ptr<const IpFilter> filter, Session session) {
    auto peer = session.stream.remote_endpoint();
    if (auto why = filter->refusal(peer.address()); !why.empty()) deny(DenyReason::host_blocked, why);
    session.credentials.note("ip_filter", "allowed " + normalize(peer.address()).to_string());
    co_return session;
}

}  // namespace

Authenticator ip_filter(IpFilterOptions options) {
    auto filter = std::make_shared<const IpFilter>(options);
    return [filter](Session session) { return run_ip_filter(filter, std::move(session)); };
}

}  // namespace authchain
