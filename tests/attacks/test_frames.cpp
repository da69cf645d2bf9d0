// Garbage and malformed frames of every message a client sends (the secure
// channel's offer and message 1, its records, public_key's C1), oversized
// and zero lengths, truncation: each refused, none reaching the backend,
// while the legitimate client keeps getting through.
#include "tests/attacks/attack_client.hpp"
#include "tests/attacks/attack_gate.hpp"

#include <authchain/auth/openssh/detail/wire.hpp>

using namespace attacks;

namespace {

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }
Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}
Bytes filled(std::size_t n, std::uint8_t v) { return Bytes(n, v); }
Bytes random_bytes(std::size_t n, unsigned seed) { return bytes_of(pattern(n, seed)); }

// uint32 length || body
Bytes frame32(const Bytes& body) {
    auto n = static_cast<std::uint32_t>(body.size());
    Bytes out{static_cast<std::uint8_t>(n >> 24), static_cast<std::uint8_t>(n >> 16), static_cast<std::uint8_t>(n >> 8),
              static_cast<std::uint8_t>(n)};
    return cat(out, body);
}
// SSH wire strings, one after the other; wire() puts a type byte first.
Bytes strings(const std::vector<Bytes>& fields) {
    openssh::WireWriter w;
    for (const auto& f : fields) w.string(ByteView(f));
    return w.bytes();
}
Bytes wire(std::uint8_t type, const std::vector<Bytes>& fields) { return cat(Bytes{type}, strings(fields)); }

// A client first message (no channel yet).
struct Opening {
    std::string name;
    Bytes bytes;
    bool then_eof = false;
};
const Bytes offer{'A', 'C', 'S', 'C', 1, 1, 0x21};

std::vector<Opening> openings() {
    Bytes tls_hello{0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1, 0x03, 0x03};
    return {
        {"garbage: HTTP request", bytes_of("GET / HTTP/1.1\r\nHost: gate\r\n\r\n")},
        {"garbage: SSH banner", bytes_of("SSH-2.0-OpenSSH_9.2\r\n")},
        {"garbage: TLS ClientHello", cat(tls_hello, random_bytes(32, 3))},
        {"garbage: 4 KiB of random bytes", random_bytes(4096, 1)},
        {"garbage: 64 KiB of zeros", filled(65536, 0)},
        {"secure channel offer: wrong magic", Bytes{'A', 'C', 'S', 'X', 1, 1, 0x21}},
        {"secure channel offer: wrong version", Bytes{'A', 'C', 'S', 'C', 2, 1, 0x21}},
        {"secure channel offer: zero suites", Bytes{'A', 'C', 'S', 'C', 1, 0}},
        {"secure channel offer: 255 suites (over 16)", cat(Bytes{'A', 'C', 'S', 'C', 1, 255}, filled(255, 0x21))},
        {"secure channel offer: no common suite", cat(Bytes{'A', 'C', 'S', 'C', 1, 2, 0x2f, 0x00, 0, 32}, random_bytes(32, 2))},
        {"secure channel offer: truncated, then end of stream", Bytes{'A', 'C', 'S'}, true},
        {"secure channel message 1: zero-length frame", cat(offer, Bytes{0, 0})},
        {"secure channel message 1: 65535 announced, 100 sent, end of stream",
         cat(cat(offer, Bytes{0xff, 0xff}), random_bytes(100, 4)), true},
        {"secure channel message 1: 16 bytes (shorter than a key)", cat(cat(offer, Bytes{0, 16}), random_bytes(16, 5))},
        {"secure channel message 1: key plus a payload", cat(cat(offer, Bytes{0, 40}), random_bytes(40, 6))},
        {"secure channel message 1: truncated, then end of stream", cat(cat(offer, Bytes{0, 32}), random_bytes(10, 7)),
         true},
    };
}

// Raw bytes under an established secure channel, in place of the first record.
struct RecordAttack {
    std::string name;
    Bytes bytes;
    bool then_eof = false;
};
std::vector<RecordAttack> record_attacks() {
    return {
        {"record: zero length", Bytes{0, 0, 0, 0}},
        {"record: shorter than a tag", Bytes{0, 3, 1, 2, 3}},
        {"record: bad tag (random ciphertext)", cat(Bytes{0, 64}, random_bytes(64, 8))},
        {"record: 65535 announced, 100 sent, end of stream", cat(Bytes{0xff, 0xff}, random_bytes(100, 9)), true},
        {"record: end of stream instead of the first record", Bytes{}, true},
    };
}

// A public_key message in place of C1 (in a valid record).
struct C1Attack {
    std::string name;
    Bytes bytes;
};
std::vector<C1Attack> c1_attacks() {
    Bytes sig = strings({bytes_of("ssh-ed25519"), filled(64, 1)});
    Bytes ed_key = strings({bytes_of("ssh-ed25519"), filled(32, 2)});
    Bytes good_body = wire(2, {ed_key, sig});
    Bytes cut = good_body;
    cut.resize(20);
    return {
        {"C1: zero length", Bytes{0, 0, 0, 0}},
        {"C1: 16 KiB + 1 announced (over the bound)", Bytes{0, 0, 0x40, 0x01}},
        {"C1: 4 GiB - 1 announced", Bytes{0xff, 0xff, 0xff, 0xff}},
        {"C1: wrong type byte (an S1)", frame32(wire(1, {ed_key, sig}))},
        {"C1: empty key", frame32(wire(2, {Bytes{}, sig}))},
        {"C1: empty signature", frame32(wire(2, {ed_key, Bytes{}}))},
        {"C1: a field running past the end", frame32(cut)},
        {"C1: trailing bytes", frame32(cat(good_body, Bytes{0}))},
        {"C1: a user name with a plain key", frame32(cat(good_body, strings({bytes_of("root")})))},
        {"C1: a key blob that is no key", frame32(wire(2, {bytes_of("garbage"), sig}))},
        {"C1: an unknown key type", frame32(wire(2, {strings({bytes_of("ssh-dss"), filled(20, 3)}), sig}))},
    };
}

}  // namespace

namespace {

// One attempt of a list, from one source.
struct Attempt {
    std::string name, source;
    tcp::endpoint local;
    std::string ending;
};

// Sends every item from an IPv4 source of its own and from ::1 (paced, so
// the audit log's 10 lines per second and source keep every line).
// Runs in the background: the legitimate client is tried meanwhile.
template <class Item, class Send>
std::future<std::vector<Attempt>> run_list(std::uint16_t port, std::vector<Item> items, Send send) {
    return in_background([port, items, send](asio::any_io_executor) -> awaitable<std::vector<Attempt>> {
        std::vector<Attempt> out;
        for (std::size_t i = 0; i < items.size(); ++i)
            for (std::string source : {v4_source(i), std::string("::1")}) {
                Attempt a{items[i].name, source, {}, {}};
                try {
                    co_await send(source, port, items[i], a);
                } catch (const std::exception& e) {
                    a.ending = std::string("error: ") + e.what();
                }
                out.push_back(std::move(a));
                co_await sleep_ms(120);
            }
        co_return out;
    });
}

// Checks and records each attack: from both families it ended, and the
// gate's audit line has `reason`; nothing reached the backend; `legit` says
// whether the legitimate client got through meanwhile.
void report(AttackGate& g, const std::vector<Attempt>& attempts, const std::string& expected_ending,
            const std::string& reason, bool legit) {
    long reached = g.attacker_backend_connections();
    CHECK(reached == 0);
    CHECK(legit);
    for (std::size_t i = 0; i < attempts.size(); i += 2) {
        std::string observed;
        bool held = reached == 0 && legit;
        for (std::size_t k = i; k < i + 2 && k < attempts.size(); ++k) {
            const auto& a = attempts[k];
            std::string got = audit_reason(audit_line_for(g.audit(), a.local));
            bool ok = a.ending != "STILL OPEN" && a.ending.rfind("error", 0) != 0 && got == reason &&
                      (expected_ending.empty() || a.ending == expected_ending);
            CHECK_MESSAGE(ok, a.name << " from " << a.source << ": " << a.ending << ", audit " << got);
            held = held && ok;
            observed += (k == i ? "" : "; ") + std::string(a.source == "::1" ? "IPv6: " : "IPv4: ") + a.ending +
                        ", audit \"" + got + "\"";
        }
        observed += "; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED");
        record(attempts[i].name, "refused (" + reason + "), never reaches the backend", observed, held);
    }
}

}  // namespace

TEST_CASE("attacks: garbage and malformed openings of the secure channel" * doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    auto attempts = run_list(g.gate.port, openings(),
                             [](std::string source, std::uint16_t port, Opening item, Attempt& a) -> awaitable<void> {
                                 auto r = co_await send_raw(source, port, item.bytes, item.then_eof);
                                 a.local = r.local;
                                 a.ending = r.ending.text();
                             });
    bool legit = g.legit_ping();  // while the attempts run
    legit = g.legit_ping() && legit;
    report(g, attempts.get(), "", "protocol error", legit);
}

TEST_CASE("attacks: malformed records under an established secure channel" * doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    auto attempts =
        run_list(g.gate.port, record_attacks(),
                 [](std::string source, std::uint16_t port, RecordAttack item, Attempt& a) -> awaitable<void> {
                     auto t = co_await open_tapped_channel(source, port);
                     a.local = t.local;
                     if (!item.bytes.empty()) co_await write_all(*t.raw, asio::buffer(item.bytes));
                     if (item.then_eof) co_await t.raw->shutdown_send();
                     a.ending = co_await stream_ending(*t.raw);
                 });
    bool legit = g.legit_ping();  // while the attempts run
    legit = g.legit_ping() && legit;
    report(g, attempts.get(), "", "protocol error", legit);
}

TEST_CASE("attacks: malformed public_key C1 messages" * doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    auto attempts = run_list(g.gate.port, c1_attacks(),
                             [](std::string source, std::uint16_t port, C1Attack item, Attempt& a) -> awaitable<void> {
                                 auto t = co_await open_tapped_channel(source, port);
                                 a.local = t.local;
                                 co_await read_pk_message(t.session.stream);
                                 co_await write_all(t.session.stream, asio::buffer(item.bytes));
                                 a.ending = co_await stream_ending(t.session.stream);
                             });
    bool legit = g.legit_ping();  // while the attempts run
    legit = g.legit_ping() && legit;
    // The gate says why on the wire: its deny record carries the coarse reason.
    report(g, attempts.get(), "refused: protocol error", "protocol error", legit);
}
