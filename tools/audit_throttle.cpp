#include "tools/audit_throttle.hpp"

namespace authchain::tools {

AuditThrottle::AuditThrottle(AuditLog& log, AuditThrottleOptions options, Clock clock)
    : log_(log), options_(options), clock_(std::move(clock)) {}

void AuditThrottle::close_window(const Key& key, Window& w) {
    if (w.suppressed > 0)
        log_.write(event_json("suppressed", {{"source", key.first},
                                             {"reason", key.second},
                                             {"count", w.suppressed},
                                             {"since", iso8601_utc(w.first_suppressed)}}));
    w.written = 0;
    w.suppressed = 0;
}

void AuditThrottle::refused(const nlohmann::json& line, const asio::ip::address& source, std::string_view reason) {
    const auto now = clock_();
    std::lock_guard lock(mutex_);
    // Assigned piecewise: g++ 12 warns falsely (-Wrestrict) on std::string(string_view) here.
    Key key;
    key.first = source.to_string();
    key.second.assign(reason.data(), reason.size());
    auto it = windows_.find(key);
    if (it == windows_.end()) {
        if (windows_.size() >= options_.max_sources) key.first = "*";
        it = windows_.try_emplace(key, Window{now}).first;
    }
    Window& w = it->second;
    if (now - w.start >= options_.interval) {
        close_window(key, w);
        w.start = now;
    }
    if (w.written < options_.lines_per_interval) {
        ++w.written;
        log_.write(line);
        return;
    }
    if (w.suppressed++ == 0) w.first_suppressed = std::chrono::system_clock::now();
}

void AuditThrottle::flush(bool everything) {
    const auto now = clock_();
    std::lock_guard lock(mutex_);
    for (auto it = windows_.begin(); it != windows_.end();) {
        Window& w = it->second;
        if (!everything && now - w.start < options_.interval) {
            ++it;
            continue;
        }
        close_window(it->first, w);
        it = windows_.erase(it);  // quiet for a whole window: forgotten
    }
}

}  // namespace authchain::tools
