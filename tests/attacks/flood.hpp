// Bounded floods for the attack cases: many connections from some sources,
// each sending the same bytes, counted by how the gate ended them; and the
// audit log's count of refusals (lines plus "suppressed" counts).
#pragma once

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <atomic>
#include <map>

#include "tests/attacks/attack_client.hpp"
#include "tests/attacks/attack_gate.hpp"

namespace attacks {

struct Tally {
    std::size_t sent = 0, closed = 0, reset = 0, still_open = 0, failed = 0;
    std::string text() const {
        return std::to_string(sent) + " sent: " + std::to_string(closed) + " closed, " + std::to_string(reset) +
               " reset, " + std::to_string(still_open) + " still open, " + std::to_string(failed) + " connect errors";
    }
};

// `per_source` connections from each source, `parallel` at a time per
// source, each sending `bytes` (then, if `then_eof`, half-closing) and
// waiting (at most 10 s) for the gate to end it. Bounded in count; the
// whole flood in `limit` (test::run).
inline awaitable<Tally> flood(std::vector<std::string> sources, std::size_t per_source, std::size_t parallel,
                              std::uint16_t port, Bytes bytes, bool then_eof = false) {
    auto ex = co_await asio::this_coro::executor;
    auto tally = std::make_shared<Tally>();
    auto workers = std::make_shared<std::size_t>(0);
    for (const auto& source : sources)
        for (std::size_t w = 0; w < parallel; ++w) {
            ++*workers;
            std::size_t count = per_source / parallel + (w < per_source % parallel ? 1 : 0);
            asio::co_spawn(
                ex,
                [](std::string source, std::size_t count, std::uint16_t port, Bytes bytes, bool then_eof,
                   std::shared_ptr<Tally> t) -> awaitable<void> {
                    for (std::size_t i = 0; i < count; ++i) {
                        ++t->sent;
                        try {
                            auto r = co_await send_raw(source, port, bytes, then_eof);
                            if (r.ending.eof) ++t->closed;
                            else if (r.ending.reset) ++t->reset;
                            else ++t->still_open;
                        } catch (const std::exception&) {
                            ++t->failed;
                        }
                    }
                }(source, count, port, bytes, then_eof, tally),
                [workers](std::exception_ptr) { --*workers; });
        }
    for (int i = 0; i < 100000 && *workers > 0; ++i) co_await sleep_ms(10);  // bounded: the run's limit too
    co_return *tally;
}

// Refusals the audit log counts for `source` with `reason`: connection lines
// plus the counts of "suppressed" lines (the log keeps 10 lines per second
// per source and reason and counts the rest).
struct AuditCount {
    std::size_t lines = 0, suppressed = 0;
    std::size_t total() const { return lines + suppressed; }
};
inline AuditCount audit_count(const std::filesystem::path& audit, const std::string& source,
                              const std::string& reason) {
    AuditCount c;
    for (const auto& j : audit_lines_from(audit, source))
        if (j.value("reason", "") == reason) ++c.lines;
    if (!std::filesystem::exists(audit)) return c;
    for (const auto& j : audit_lines(audit, "suppressed")) {
        std::string s = j.value("source", "");
        if ((s == source || s == "::ffff:" + source) && j.value("reason", "") == reason)
            c.suppressed += j.value("count", std::size_t{0});
    }
    return c;
}

// audit_count() summed over `sources`, polled (bounded: 4 s) until it
// reaches `at_least`: suppressed counts are written when their window ends.
inline std::size_t wait_audit_count(const std::filesystem::path& audit, const std::vector<std::string>& sources,
                                    const std::vector<std::string>& reasons, std::size_t at_least) {
    std::size_t total = 0;
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(4);
    for (int i = 0; i < 200; ++i) {
        total = 0;
        for (const auto& s : sources)
            for (const auto& r : reasons) total += audit_count(audit, s, r).total();
        if (total >= at_least || std::chrono::steady_clock::now() > until) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return total;
}

inline std::size_t wait_audit_count(const std::filesystem::path& audit, const std::vector<std::string>& sources,
                                    const std::string& reason, std::size_t at_least) {
    return wait_audit_count(audit, sources, std::vector<std::string>{reason}, at_least);
}

// CPU seconds (user + system) the process `pid` has used so far.
inline double cpu_seconds(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto close = stat.rfind(')');
    if (close == std::string::npos) return -1;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14) utime = std::stoull(field);
        if (i == 15) stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace attacks
