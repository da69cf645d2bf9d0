#include <authchain/compose/credentials.hpp>

#include <algorithm>
#include <stdexcept>
#include <utility>

namespace authchain {

std::vector<std::string> ProofLog::layers() const {
    std::vector<std::string> out;
    for (const auto& p : entries_)
        if (std::find(out.begin(), out.end(), p.layer) == out.end()) out.push_back(p.layer);
    return out;
}

namespace detail {

ProofLogHandle::ProofLogHandle() : log_(std::make_shared<ProofLog>()) {}

ProofLogHandle::ProofLogHandle(const ProofLogHandle& other) : log_(std::make_shared<ProofLog>(other.get())) {}

ProofLogHandle& ProofLogHandle::operator=(const ProofLogHandle& other) {
    if (this != &other) mutate() = other.get();
    return *this;
}

const ProofLog& ProofLogHandle::get() const noexcept {
    static const ProofLog empty;
    return log_ ? *log_ : empty;
}

ProofLog& ProofLogHandle::mutate() {
    if (!log_) log_ = std::make_shared<ProofLog>();
    return *log_;
}

}  // namespace detail

const Credentials& Credentials::probe() {
    static const Credentials probe;
    return probe;
}

// Every named fact, once: fact_name and restore read this one list.
template <class F>
void Credentials::for_each_field(F&& f) {
    f(&Credentials::peer, "peer");
    f(&Credentials::channel_id, "channel_id");
    f(&Credentials::key_type, "key_type");
    f(&Credentials::key_fingerprint, "key_fingerprint");
    f(&Credentials::key_comment, "key_comment");
    f(&Credentials::key_restrictions, "key_restrictions");
    f(&Credentials::host_name, "host_name");
    f(&Credentials::user, "user");
    f(&Credentials::cert_subject, "cert_subject");
    f(&Credentials::cert_serial, "cert_serial");
    f(&Credentials::cert_fingerprint, "cert_fingerprint");
    f(&Credentials::psk_id, "psk_id");
    f(&Credentials::cert_common_name, "cert_common_name");
    f(&Credentials::cert_san, "cert_san");
    f(&Credentials::cert_not_after, "cert_not_after");
    f(&Credentials::tls_suite, "tls_suite");
    f(&Credentials::cert_key_id, "cert_key_id");
    f(&Credentials::ssh_cert_serial, "ssh_cert_serial");
    f(&Credentials::ssh_ca_fingerprint, "ssh_ca_fingerprint");
    f(&Credentials::ssh_cert_valid_before, "ssh_cert_valid_before");
}

std::string_view Credentials::fact_name(const void* field) {
    const Credentials& c = probe();
    std::string_view found;
    for_each_field([&](auto member, std::string_view name) {
        if (static_cast<const void*>(&(c.*member)) == field) found = name;
    });
    if (found.empty()) throw std::logic_error("Credentials::prove: this fact has no name in fact_name(); name it");
    return found;
}

void Credentials::restore(const Credentials& source, std::size_t first) {
    const auto& entries = source.log();
    for (std::size_t i = first; i < entries.size(); ++i) {
        const Proof& p = entries[i];
        bool proven = false;
        for_each_field([&](auto member, std::string_view name) {
            if (proven || p.fact != name || !(source.*member).known()) return;
            prove(p.layer, member, *(source.*member), name);
            proven = true;
        });
        if (proven) continue;
        if (auto it = source.extra_.find(p.fact); it != source.extra_.end())
            prove_extra(p.layer, it->first, it->second);
        else
            note(p.layer, p.fact);
    }
}

void Credentials::conflict(std::string_view layer, std::string_view name) {
    throw CredentialConflict("layer " + std::string(layer) + " tried to overwrite proven fact " +
                             std::string(name));
}

void Credentials::prove_extra(std::string_view layer, std::string key, std::string value) {
    if (extra_.contains(key)) conflict(layer, key);
    append(layer, key);
    extra_.emplace(std::move(key), std::move(value));
}

void Credentials::note(std::string_view layer, std::string what) { append(layer, std::move(what)); }

void Credentials::append(std::string_view layer, std::string fact) {
    auto& entries = log_.mutate().entries_;
    // Grown a few entries at a time, not doubled: a chain proves a handful
    // of facts, and the log lives as long as the connection.
    if (entries.size() == entries.capacity()) entries.reserve(entries.size() + 4);
    entries.push_back({std::string(layer), std::move(fact)});
}

std::string Credentials::identity() const {
    std::string out;
    auto add = [&](std::string_view label, const Fact<std::string>& f) {
        if (!f) return;
        if (!out.empty()) out += ' ';
        out += label;
        out += ' ';
        out += *f;
    };
    add("host", host_name);
    add("key", key_fingerprint);
    add("comment", key_comment);
    add("user", user);
    add("cert", cert_subject);
    add("psk", psk_id);
    for (const auto& [k, v] : extra_) {
        if (!out.empty()) out += ' ';
        out.append(k).append("=").append(v);
    }
    return out.empty() ? "anonymous" : out;
}

}  // namespace authchain
