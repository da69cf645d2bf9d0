#include "tools/audit_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <system_error>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/resumption.hpp>

namespace authchain::tools {

namespace {

std::int64_t ms(std::chrono::steady_clock::duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

std::string iso8601_utc(std::chrono::system_clock::time_point t) {
    auto since = t.time_since_epoch();
    auto secs = std::chrono::floor<std::chrono::seconds>(since);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since - secs).count();
    std::time_t tt = static_cast<std::time_t>(secs.count());
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(millis));
    return buf;
}

nlohmann::json identity_json(const Credentials& c) {
    auto out = nlohmann::json::object();
    auto add = [&](const char* name, const Fact<std::string>& f) {
        if (f) out[name] = *f;
    };
    add("key_fingerprint", c.key_fingerprint);
    add("key_type", c.key_type);
    add("key_comment", c.key_comment);
    add("host_name", c.host_name);
    add("user", c.user);
    add("cert_subject", c.cert_subject);
    add("psk_id", c.psk_id);
    add("cert_serial", c.cert_serial);
    add("cert_fingerprint", c.cert_fingerprint);
    add("cert_not_after", c.cert_not_after);
    add("tls_suite", c.tls_suite);
    if (c.cert_san) out["cert_san"] = *c.cert_san;
    add("cert_key_id", c.cert_key_id);
    add("ssh_cert_serial", c.ssh_cert_serial);
    add("ssh_ca_fingerprint", c.ssh_ca_fingerprint);
    add("ssh_cert_valid_before", c.ssh_cert_valid_before);
    for (const auto& [k, v] : c.extra()) out["extra"][k] = v;
    return out;
}

nlohmann::json to_json(const ConnectionAudit& a) {
    nlohmann::json j;
    j["time"] = iso8601_utc(a.time);
    j["event"] = "connection";
    j["peer"] = endpoint_text(a.peer);
    j["layers"] = a.layers;
    j["identity"] = a.credentials ? identity_json(*a.credentials) : nlohmann::json::object();
    if (a.credentials && resumed(*a.credentials)) j["resumed"] = true;
    j["verdict"] = a.verdict;
    if (!a.reason.empty()) j["reason"] = a.reason;
    if (!a.detail.empty()) j["detail"] = a.detail;
    j["handshake_ms"] = ms(a.handshake);
    if (a.close) {
        j["bytes_in"] = a.close->bytes_in;
        j["bytes_out"] = a.close->bytes_out;
        j["duration_ms"] = ms(a.close->duration);
        j["closed_by"] = a.close->closed_by;
    }
    return j;
}

nlohmann::json to_json(const AuditRecord& r) {
    ConnectionAudit a;
    a.time = r.time;
    a.peer = r.peer;
    a.layers = r.layers_passed;
    a.verdict = r.accepted ? "accepted" : "denied";
    if (r.reason) a.reason = std::string(to_string(*r.reason));
    a.detail = r.detail;
    a.handshake = r.duration;
    return to_json(a);
}

nlohmann::json event_json(std::string_view name, nlohmann::json fields) {
    nlohmann::json j;
    j["time"] = iso8601_utc(std::chrono::system_clock::now());
    j["event"] = name;
    if (fields.is_object()) j.update(fields);
    return j;
}

AuditLog::AuditLog(const std::string& target) {
    if (target.empty()) return;
    if (target == "-") {
        fd_ = STDOUT_FILENO;
        return;
    }
    fd_ = open_audit_file(target);
    owned_ = true;
    target_ = target;
}

void AuditLog::reopen() {
    if (!owned_) return;
    int fd = open_audit_file(target_);
    std::lock_guard lock(mutex_);
    ::close(fd_);
    fd_ = fd;
    write_failed_ = false;
}

int AuditLog::open_audit_file(const std::string& target) {
    // The directory and every one above it: nobody else can plant a link or swap the file.
    const std::filesystem::path path(target);
    if (path.filename().empty()) throw std::runtime_error("audit log " + target + ": not a file name");
    std::filesystem::path dir = openssh::check_safe_directories(path.parent_path());
    const std::string name = (dir / path.filename()).string();
    // O_NOFOLLOW: a symlink is refused, not followed; O_NONBLOCK: a FIFO does not hang the start.
    int fd = ::open(name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
    if (fd < 0 && errno == ELOOP)
        throw std::runtime_error("audit log " + target + ": refused: a symbolic link (not followed)");
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "audit log " + target);
    // What is checked is the descriptor written to.
    struct stat st {};
    std::string why;
    if (::fstat(fd, &st) != 0)
        why = std::string("cannot stat: ") + std::strerror(errno);
    else if (!S_ISREG(st.st_mode))
        why = "not a regular file";
    else if (st.st_uid != 0 && st.st_uid != ::geteuid())
        why = "owned by uid " + std::to_string(st.st_uid) + ", not by us or root";
    else if ((st.st_mode & 022) != 0)
        why = "writable by group or others (chmod go-w)";
    else if (st.st_nlink != 1)
        why = "it has other hard links (one could be a file we must not append to)";
    else if (::fcntl(fd, F_SETFL, O_APPEND) != 0)
        why = std::string("fcntl: ") + std::strerror(errno);
    if (!why.empty()) {
        ::close(fd);
        throw std::runtime_error("audit log " + target + ": refused: " + why);
    }
    return fd;
}

AuditLog::~AuditLog() {
    if (owned_) ::close(fd_);
}

void AuditLog::write(const nlohmann::json& entry) {
    if (fd_ < 0) return;
    // Invalid UTF-8 from a peer must not throw: replace it.
    std::string line = entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    std::lock_guard lock(mutex_);
    std::size_t done = 0;
    while (done < line.size()) {
        ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            if (!write_failed_) std::fprintf(stderr, "authchain: cannot write the audit log\n");
            write_failed_ = true;
            return;
        }
        done += static_cast<std::size_t>(n);
    }
}

}  // namespace authchain::tools
