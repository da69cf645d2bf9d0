// What the end of one forwarded connection writes: its audit line
// (forward_audit, add_via) and its metrics (record_forward). Declared in
// tools/service.hpp.
#include "tools/service.hpp"

#include "tools/listener.hpp"

namespace authchain::tools {

ConnectionAudit forward_audit(const Session& client, const ForwardSummary& s, std::string_view self,
                              std::string_view far) {
    ConnectionAudit a;
    a.time = client.handshake.started;
    a.peer = client.credentials.peer.value_or({});
    a.layers = client.credentials.layers();
    a.credentials = &client.credentials;
    a.handshake = client.handshake.duration;
    auto set = [&a](std::string verdict, std::string reason, std::string detail) {
        a.verdict = std::move(verdict);
        a.reason = std::move(reason);
        a.detail = std::move(detail);
    };
    auto closed_by = [&] {
        if (s.outcome == ForwardOutcome::closed) return std::string(self);
        if (s.closed_first == ForwardSide::client) return std::string("client");
        if (s.closed_first == ForwardSide::backend) return std::string(far);
        return std::string();
    };
    bool far_side = s.closed_first == ForwardSide::backend;
    switch (s.outcome) {
        case ForwardOutcome::forwarded: set("accepted", "", ""); break;
        case ForwardOutcome::error:
            if (s.idle)
                set("accepted", "idle timeout", s.error_text);
            else if (s.integrity_failure != ForwardSide::none)
                // Named by the side whose transport rejected what it read,
                // not by which side ended first.
                set("error",
                    s.integrity_failure == ForwardSide::backend ? std::string(far) + " integrity failure"
                                                                : "client integrity failure",
                    s.error_text);
            else
                set("error", far_side ? std::string(far) + " error" : "client error", s.error_text);
            break;
        case ForwardOutcome::closed:
            set("accepted", "shutdown", "closed after the grace period: " + s.error_text);
            break;
        case ForwardOutcome::backend_unavailable: set("error", std::string(far) + " unavailable", s.error_text); break;
        case ForwardOutcome::refused:
            set("denied", std::string(to_string(s.refusal.value_or(DenyReason::denied))), s.error_text);
            break;
        case ForwardOutcome::proxy_header_failed:
            set("error", far_side ? std::string(far) + " closed" : "proxy header too long", s.error_text);
            break;
        case ForwardOutcome::stopping: set("error", "shutting down", std::string(self) + " is stopping"); break;
    }
    bool pumped = s.outcome == ForwardOutcome::forwarded || s.outcome == ForwardOutcome::error ||
                  s.outcome == ForwardOutcome::closed;
    if (pumped) a.close = ConnectionAudit::Close{s.client_to_backend, s.backend_to_client, s.duration, closed_by()};
    return a;
}

void record_forward(Metrics& metrics, const ForwardSummary& s) {
    bool far_failed = s.outcome == ForwardOutcome::backend_unavailable ||
                      (s.outcome == ForwardOutcome::error && !s.idle && s.closed_first == ForwardSide::backend) ||
                      (s.outcome == ForwardOutcome::proxy_header_failed && s.closed_first == ForwardSide::backend);
    metrics.forwarded(s.duration, s.client_to_backend, s.backend_to_client, far_failed);
}

void add_via(nlohmann::json& line, const ServiceContext& service, const asio::ip::tcp::endpoint& client) {
    if (auto via = service.listener.balancer_of(client)) line["via"] = endpoint_text(*via);
}

}  // namespace authchain::tools
