#include <authchain/compose/certificate_expiry.hpp>

#include <mutex>

namespace authchain {

namespace {

struct Expiries {
    std::mutex mutex;
    std::map<std::string, std::chrono::system_clock::time_point> by_name;
};

Expiries& expiries() {
    static Expiries e;
    return e;
}

}  // namespace

void report_certificate_expiry(const std::string& name, std::chrono::system_clock::time_point not_after) {
    auto& e = expiries();
    std::lock_guard lock(e.mutex);
    e.by_name[name] = not_after;
}

std::map<std::string, std::chrono::system_clock::time_point> certificate_expiries() {
    auto& e = expiries();
    std::lock_guard lock(e.mutex);
    return e.by_name;
}

}  // namespace authchain
