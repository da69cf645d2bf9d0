// Attacks on the password, psk and tls layers (issue 14), each against a
// real gate with that layer in front of a real redis-server, and a real
// tunnel with the same layer for the legitimate client:
//   password: concurrent wrong guesses from one source past failure_throttle,
//     oversized frames and fields, malformed and relayed P1 messages;
//   psk: an unknown key id, a wrong key, the gate's own nonce sent back, a
//     C1 replayed from a recorded session;
//   tls: plaintext to the TLS port, client certificates from another CA and
//     expired, TLS 1.1 and 1.0 offered (openssl s_client), no client certificate.
// Each: the gate refuses (the audit line of that very connection says how),
// the backend sees nothing, the legitimate client gets through.
#include "tests/attacks/chain_gate.hpp"
#include "tests/attacks/flood.hpp"

#include <botan/system_rng.h>

#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/password.hpp>
#include <authchain/auth/psk.hpp>
#include <authchain/auth/psk/detail/messages.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/auth/tls_ca.hpp>

namespace layer_attacks {

using namespace attacks;

const std::string guarded = "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.0/8\", \"::1\"]\n"
                            "[[layer]]\nkind = \"failure_throttle\"\n";

void put_u32(Bytes& b, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) b.push_back(static_cast<std::uint8_t>(v >> shift));
}
void put_string(Bytes& b, ByteView s) {
    put_u32(b, static_cast<std::uint32_t>(s.size()));
    b.insert(b.end(), s.begin(), s.end());
}

// What the gate wrote for the connection from `local`: "verdict (reason): detail".
std::string gate_saw(const ChainGate& g, const tcp::endpoint& local) {
    return audit_summary(audit_line_for(g.audit(), local));
}
bool has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---- password ----------------------------------------------------------

// A P1 body (auth/password/detail/messages.hpp) from its fields, bounds not
// checked, padded to a multiple of 512 bytes as the real client pads.
Bytes p1_body(std::uint8_t type, ByteView channel_id, std::string_view user, std::string_view password) {
    Bytes b{type};
    put_string(b, channel_id);
    put_string(b, as_bytes(user));
    put_string(b, as_bytes(password));
    const std::size_t pad = (512 - (b.size() + 4) % 512) % 512;
    put_string(b, Bytes(pad, 0));
    return b;
}

// The attacker's way in up to the password layer: the secure channel and
// public_key with its own listed key ("stranger", a user of the gate who
// wants alice's password).
Authenticator up_to_password(const Setup& s, std::uint16_t port) {
    return client::secure_channel() | client::public_key({.identity = s.dir / "stranger",
                                                          .known_hosts = s.dir / "known_hosts",
                                                          .host_name = "127.0.0.1",
                                                          .port = port});
}

// One login as alice with `password` from `source`, by the real client layers.
awaitable<ProofResult> guess(std::string source, std::uint16_t port, std::shared_ptr<Authenticator> chain) {
    ProofResult r;
    try {
        auto socket = co_await connect_from(source, port);
        r.local = socket.local_endpoint();
        Session session = co_await (*chain)(start_session(tcp_stream(std::move(socket))));
        co_await session.stream.receive_verdict();
    } catch (const AuthenticationError& e) {
        r.refused = e.reason();
    } catch (const std::exception& e) {
        r.error = e.what();
    }
    co_return r;
}

awaitable<std::vector<ProofResult>> concurrent_guesses(std::string source, std::uint16_t port, std::size_t n,
                                                       std::shared_ptr<Authenticator> chain) {
    auto ex = co_await asio::this_coro::executor;
    auto results = std::make_shared<std::vector<ProofResult>>();
    auto left = std::make_shared<std::size_t>(n);
    for (std::size_t i = 0; i < n; ++i)
        asio::co_spawn(ex, guess(source, port, chain), [results, left](std::exception_ptr, ProofResult r) {
            results->push_back(std::move(r));
            --*left;
        });
    for (int i = 0; i < 3000 && *left > 0; ++i) co_await sleep_ms(10);
    co_return *results;
}

// Past public_key, sends `make(channel id)` raw in place of P1 and reports
// how the gate ended the stream ("refused: <reason>", ...).
struct RawOutcome {
    tcp::endpoint local;
    std::string ending;
};
awaitable<RawOutcome> raw_p1(std::string source, std::uint16_t port, Authenticator chain,
                             std::function<Bytes(const Bytes&)> make) {
    RawOutcome r;
    try {
        auto socket = co_await connect_from(source, port);
        r.local = socket.local_endpoint();
        Session session = co_await chain(start_session(tcp_stream(std::move(socket))));
        Bytes bytes = make(session.stream.protection().channel_id);
        co_await write_all(session.stream, asio::buffer(bytes));
        r.ending = co_await stream_ending(session.stream, std::chrono::seconds(6));
    } catch (const AuthenticationError& e) {
        r.ending = "refused before P1: " + std::string(to_string(e.reason()));
    } catch (const std::exception& e) {
        r.ending = std::string("error: ") + e.what();
    }
    co_return r;
}

// ---- psk ---------------------------------------------------------------

// How a hand-made C1 fared: the S2 verdict, then the stream's end.
struct PskOutcome {
    tcp::endpoint local;
    std::string text;  // "S2 accepted", "S2 denied, refused: denied", "error: ..."
    bool accepted = false;
};

// Opens a secure channel from `source`, reads S1 and sends `make(Ns, cid)`
// (a whole C1 frame; *sent keeps a copy, for a replay).
awaitable<PskOutcome> psk_attempt(std::string source, std::uint16_t port,
                                  std::function<Bytes(const PskNonce&, const Bytes&)> make,
                                  std::shared_ptr<Bytes> sent) {
    PskOutcome r;
    try {
        auto socket = co_await connect_from(source, port);
        r.local = socket.local_endpoint();
        Authenticator layer = client::secure_channel();
        Session ch = co_await layer(start_session(tcp_stream(std::move(socket))));
        const Bytes cid = ch.stream.protection().channel_id;
        PskNonce ns = decode_psk_s1(co_await read_frame(ch.stream, max_psk_message, "S1"));
        Bytes c1 = make(ns, cid);
        if (sent) *sent = c1;
        co_await write_all(ch.stream, asio::buffer(c1));
        PskS2 s2 = decode_psk_s2(co_await read_frame(ch.stream, max_psk_message, "S2"));
        r.accepted = s2.accepted;
        if (s2.accepted) {
            co_await ch.stream.receive_verdict();
            r.text = "S2 accepted";
        } else {
            r.text = "S2 denied, " + co_await stream_ending(ch.stream, std::chrono::seconds(5));
        }
    } catch (const AuthenticationError& e) {
        r.text = "refused: " + std::string(to_string(e.reason()));
    } catch (const std::exception& e) {
        r.text = std::string("error: ") + e.what();
    }
    co_return r;
}

PskNonce random_nonce() {
    PskNonce n{};
    Botan::system_rng().randomize(n.data(), n.size());
    return n;
}

// A C1 for key id `id`, client nonce `nc`, proved with `key`.
Bytes psk_c1(const Botan::secure_vector<std::uint8_t>& key, const std::string& id, const PskNonce& ns,
             const PskNonce& nc, const Bytes& cid) {
    return encode_psk_c1({.key_id = id, .client_nonce = nc, .proof = psk_proof(key, PskRole::client, cid, id, ns, nc)});
}

// ---- tls ---------------------------------------------------------------

// `openssl s_client ARGS` to the gate at [::1] (a source other than the
// legitimate client's 127.0.0.1), stdin closed: exit status and output.
int s_client(const ChainGate& g, const std::string& args, std::string* out) {
    return shell("cd '" + g.s.dir.path().string() + "' && timeout 15 openssl s_client -connect '[::1]:" +
                     std::to_string(g.gate.port) + "' -servername server.example -CAfile ca/ca.crt " + args +
                     " </dev/null",
                 out);
}

// The alert openssl reports ("sslv3 alert bad certificate": the field of
// its error line that names it), or "".
std::string alert_in(const std::string& text) {
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        for (std::string f; std::getline(fields, f, ':');)
            if (has(f, " alert ")) return f;
    }
    return "";
}

}  // namespace layer_attacks

TEST_CASE("attacks: password layer: concurrent guesses, oversized and malformed P1" *
          doctest::skip(skip_without_redis())) {
    using namespace layer_attacks;
    require_redis();
    ChainGate g;
    // alice's password, written by the command (cheap Argon2 parameters);
    // the attacker's own key (stranger) is listed too: it gets to the password layer.
    std::string out;
    REQUIRE_MESSAGE(shell("printf '%s\\n' 'correct horse' | " + g.s.bin + " passwd '" + (g.s.dir / "users").string() +
                              "' add alice -m 64 -t 1",
                          &out) == 0,
                    out);
    write_file(g.s.dir / "authorized_keys",
               read_file(g.s.dir / "client.pub") + read_file(g.s.dir / "stranger.pub"), 0600);
    g.start("", guarded + "max_failures = 5\nwindow = \"60s\"\ncooldown = \"300s\"\n"
                          "[[layer]]\nkind = \"secure_channel\"\n"
                          "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n"
                          "[[layer]]\nkind = \"password\"\nusers = \"users\"\nmin_memory_kib = 64\nmin_iterations = 1\n");
    g.know_host("127.0.0.1");
    write_file(g.s.dir / "legit.pw", "correct horse\n", 0600);
    Daemon tunnel = g.tunnel("legit", "127.0.0.1",
                             "[[layer]]\nkind = \"secure_channel\"\n"
                             "[[layer]]\nkind = \"public_key\"\nidentity = \"client\"\nknown_hosts = \"known_hosts\"\n"
                             "[[layer]]\nkind = \"password\"\nuser = \"alice\"\npassword_file = \"legit.pw\"\n");
    const std::uint16_t port = g.gate.port;
    REQUIRE(g.legit_ping(tunnel.port));

    // 30 wrong passwords at once from one source: the throttle counts the
    // attempts in flight, so at most max_failures (5) get a verdict.
    {
        const std::string source = "127.0.0.30";
        Authenticator login = up_to_password(g.s, port) | client::password({.user = "alice", .password = "hunter2"});
        auto chain = std::make_shared<Authenticator>(std::move(login));
        auto guesses = in_background(
            [source, port, chain](asio::any_io_executor) { return concurrent_guesses(source, port, 30, chain); });
        bool legit = g.legit_ping(tunnel.port);  // while they run
        auto results = guesses.get();
        legit = g.legit_ping(tunnel.port) && legit;
        wait_audit_count(g.audit(), {source}, std::vector<std::string>{"denied", "busy", "host blocked"}, 30);
        std::size_t verdicts = wait_audit_count(g.audit(), {source}, "denied", 0);
        std::size_t held_off = wait_audit_count(g.audit(), {source}, std::vector<std::string>{"busy", "host blocked"}, 0);
        std::size_t accepted = 0, by_password = 0;
        for (const auto& r : results) accepted += !r.refused && r.error.empty();
        for (const auto& j : audit_lines_from(g.audit(), source))
            by_password += j.value("reason", "") == "denied" && has(j.value("detail", ""), "wrong password");
        long reached = g.attacker_backend_connections();
        bool ok = results.size() == 30 && accepted == 0 && verdicts >= 1 && verdicts <= 5 &&
                  by_password == verdicts && verdicts + held_off == 30;
        CHECK(ok);
        CHECK(legit);
        CHECK(reached == 0);
        record("password: 30 concurrent wrong passwords for alice from one source (a listed key), max_failures = 5",
               "at most 5 reach the password check (denied: wrong password); the rest refused busy / host blocked; "
               "legit client gets in",
               std::to_string(verdicts) + " denied (" + std::to_string(by_password) + " by the password check), " +
                   std::to_string(held_off) + " busy or host blocked, " + std::to_string(accepted) +
                   " accepted; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
               ok && legit && reached == 0);
    }

    // Oversized and malformed P1s, each from its own source, after a
    // successful public_key: refused as protocol error before any hashing.
    struct Case {
        std::string name;
        std::function<Bytes(const Bytes&)> make;
    };
    const std::vector<Case> cases{
        {"password: a P1 frame announcing 1 MiB (bound 2 KiB)",
         [](const Bytes&) {
             Bytes b;
             put_u32(b, 1u << 20);
             b.resize(b.size() + 64, 'x');
             return b;
         }},
        {"password: a P1 with a 1000-byte user name (bound 64)",
         [](const Bytes& cid) { return frame(p1_body(1, cid, std::string(1000, 'a'), "hunter2")); }},
        {"password: a P1 with a 1500-byte password (bound 1 KiB)",
         [](const Bytes& cid) { return frame(p1_body(1, cid, "alice", std::string(1500, 'p'))); }},
        {"password: a malformed P1: wrong message type",
         [](const Bytes& cid) { return frame(p1_body(2, cid, "alice", "hunter2")); }},
        {"password: a malformed P1: the user field's length runs past the end",
         [](const Bytes& cid) {
             Bytes b{1};
             put_string(b, cid);
             put_u32(b, 0xfffffff0u);
             b.resize(b.size() + 100, 'a');
             return frame(b);
         }},
        {"password: a P1 made for another channel (relayed)",
         [](const Bytes& cid) {
             Bytes other(cid.size());
             Botan::system_rng().randomize(other.data(), other.size());
             return frame(p1_body(1, other, "alice", "correct horse"));
         }},
    };
    int n = 0;
    for (const auto& c : cases) {
        const std::string source = "127.0.0." + std::to_string(31 + n++);
        Authenticator chain = up_to_password(g.s, port);
        auto make = c.make;
        RawOutcome r = test::run([source, port, chain, make](asio::any_io_executor) {
            return raw_p1(source, port, chain, make);
        });
        std::string saw = gate_saw(g, r.local);
        bool legit = g.legit_ping(tunnel.port);
        long reached = g.attacker_backend_connections();
        bool ok = r.ending == "refused: protocol error" && has(saw, "denied (protocol error): P1");
        CHECK_MESSAGE(ok, c.name << ": " << r.ending << "; gate: " << saw);
        CHECK(legit);
        CHECK(reached == 0);
        record(c.name, "refused as protocol error before any hashing; legit client gets in",
               "attacker " + r.ending + "; gate: " + saw + "; backend +" + std::to_string(reached) +
                   ", legit client " + (legit ? "ok" : "FAILED"),
               ok && legit && reached == 0);
    }
}

TEST_CASE("attacks: psk layer: unknown key id, wrong key, reflected nonce, replayed C1" *
          doctest::skip(skip_without_redis())) {
    using namespace layer_attacks;
    require_redis();
    ChainGate g;
    std::string out;
    REQUIRE_MESSAGE(shell(g.s.bin + " keygen --psk '" + (g.s.dir / "gate.psk").string() + "' --id team", &out) == 0,
                    out);
    write_file(g.s.dir / "tunnel.psk", read_file(g.s.dir / "gate.psk"), 0600);
    g.start("", guarded + "max_failures = 1000\n[[layer]]\nkind = \"secure_channel\"\n"
                          "[[layer]]\nkind = \"psk\"\nkeys = \"gate.psk\"\n");
    Daemon tunnel = g.tunnel("legit", "127.0.0.1",
                             "[[layer]]\nkind = \"secure_channel\"\n[[layer]]\nkind = \"psk\"\nkey_file = \"tunnel.psk\"\n");
    const std::uint16_t port = g.gate.port;
    REQUIRE(g.legit_ping(tunnel.port));
    // The real key, to make the proofs only the check under attack can refuse.
    const PskKeyFile keys = read_psk_key_file(g.s.dir / "gate.psk");
    const Botan::secure_vector<std::uint8_t> key = keys.keys.at(0).key;
    Botan::secure_vector<std::uint8_t> wrong_key(32);
    Botan::system_rng().randomize(wrong_key.data(), wrong_key.size());

    // A session recorded: a C1 made with the real key, accepted on its own
    // channel (one backend connection, counted as legitimate).
    auto recorded = std::make_shared<Bytes>();
    PskOutcome original = test::run([port, key, recorded](asio::any_io_executor) {
        return psk_attempt("127.0.0.44", port,
                           [key](const PskNonce& ns, const Bytes& cid) { return psk_c1(key, "team", ns, random_nonce(), cid); },
                           recorded);
    });
    REQUIRE_MESSAGE(original.accepted, original.text);
    ++g.expected_other;

    struct Case {
        std::string name, expected_detail;
        std::function<Bytes(const PskNonce&, const Bytes&)> make;
    };
    const std::vector<Case> cases{
        {"psk: C1 with an unknown key id", "unknown psk key id",
         [wrong_key](const PskNonce& ns, const Bytes& cid) { return psk_c1(wrong_key, "nobody", ns, random_nonce(), cid); }},
        {"psk: C1 for the right key id proved with a wrong key", "proof does not verify",
         [wrong_key](const PskNonce& ns, const Bytes& cid) { return psk_c1(wrong_key, "team", ns, random_nonce(), cid); }},
        {"psk: the gate's own nonce sent back as the client's (reflection; proof made with the real key)",
         "our own nonce", [key](const PskNonce& ns, const Bytes& cid) { return psk_c1(key, "team", ns, ns, cid); }},
        {"psk: a C1 replayed from a recorded session (accepted there)", "proof does not verify",
         [recorded](const PskNonce&, const Bytes&) { return *recorded; }},
    };
    int n = 0;
    for (const auto& c : cases) {
        const std::string source = "127.0.0." + std::to_string(45 + n++);
        auto make = c.make;
        PskOutcome r = test::run([source, port, make](asio::any_io_executor) {
            return psk_attempt(source, port, make, nullptr);
        });
        std::string saw = gate_saw(g, r.local);
        bool legit = g.legit_ping(tunnel.port);
        long reached = g.attacker_backend_connections();
        bool ok = !r.accepted && r.text == "S2 denied, refused: denied" && has(saw, "denied (denied)") &&
                  has(saw, c.expected_detail);
        CHECK_MESSAGE(ok, c.name << ": " << r.text << "; gate: " << saw);
        CHECK(legit);
        CHECK(reached == 0);
        record(c.name, "S2 denied, then the deny (denied); audit: " + c.expected_detail + "; legit client gets in",
               "attacker: " + r.text + "; gate: " + saw + "; backend +" + std::to_string(reached) +
                   " (besides the recorded session), legit client " + (legit ? "ok" : "FAILED"),
               ok && legit && reached == 0);
    }
}

TEST_CASE("attacks: tls layer: plaintext, foreign and expired client certificates, TLS 1.1 and 1.0, no client "
          "certificate" * doctest::skip(skip_without_redis() || skip_missing({"openssl"}))) {
    using namespace layer_attacks;
    require_redis();
    require_tools({"openssl"});
    ChainGate g;
    std::string out;
    const std::string ca = g.s.bin + " ca ";
    for (const std::string& step :
         {ca + "init ca --name 'gate CA'", ca + "issue ca --name server.example --server --dns server.example",
          ca + "issue ca --name alice --client", ca + "init other --name 'another CA'",
          ca + "issue other --name mallory --client"})
        REQUIRE_MESSAGE(shell("cd '" + g.s.dir.path().string() + "' && " + step, &out) == 0, step << ": " << out);
    {
        // Issued by the gate's own CA, valid for 24 hours three days ago.
        ca::Authority authority = ca::load_authority(g.s.dir / "ca");
        ca::write_issued(g.s.dir / "ca", "old",
                         ca::issue(authority, {.name = "old",
                                               .purpose = ca::Purpose::client,
                                               .now = ca::Clock::now() - std::chrono::hours(72)}));
    }
    g.start("", guarded + "max_failures = 1000\n[[layer]]\nkind = \"tls\"\ncert = \"ca/server.example.crt\"\n"
                          "key = \"ca/server.example.key\"\nca = \"ca/ca.crt\"\n");
    Daemon tunnel = g.tunnel("legit", "127.0.0.1",
                             "[[layer]]\nkind = \"tls\"\ncert = \"ca/alice.crt\"\nkey = \"ca/alice.key\"\n"
                             "ca = \"ca/ca.crt\"\nserver_name = \"server.example\"\n");
    const std::uint16_t port = g.gate.port;
    REQUIRE(g.legit_ping(tunnel.port));

    // Plaintext: a redis PING straight to the TLS port.
    {
        const Bytes ping{'P', 'I', 'N', 'G', '\r', '\n'};
        RawResult r = test::run([port, ping](asio::any_io_executor) { return send_raw("127.0.0.50", port, ping); });
        std::string saw = gate_saw(g, r.local);
        bool legit = g.legit_ping(tunnel.port);
        long reached = g.attacker_backend_connections();
        bool ok = r.ending.ended() && has(saw, "denied (protocol error): tls");
        CHECK_MESSAGE(ok, r.ending.text() << "; gate: " << saw);
        CHECK(legit);
        CHECK(reached == 0);
        record("tls: plaintext (a redis PING) to the TLS port", "refused as protocol error; legit client gets in",
               "connection " + r.ending.text() + " after " + std::to_string(r.ending.bytes) + " bytes; gate: " + saw +
                   "; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
               ok && legit && reached == 0);
    }

    // openssl s_client from ::1, one attempt each.
    struct Case {
        std::string name, args, reason, detail;  // what the gate's audit line must say
    };
    const std::vector<Case> cases{
        {"tls: a client certificate from another CA (openssl s_client)", "-cert other/mallory.crt -key other/mallory.key",
         "denied", "issuer not found"},
        {"tls: an expired client certificate of the gate's own CA (openssl s_client)", "-cert ca/old.crt -key ca/old.key",
         "denied", "has expired"},
        {"tls: downgrade: openssl s_client -tls1_1 (at SECLEVEL=0, so the offer is really sent)",
         "-tls1_1 -cipher DEFAULT@SECLEVEL=0 -cert ca/alice.crt -key ca/alice.key", "protocol error",
         "TLS v1.1 is unacceptable by policy"},
        {"tls: downgrade: openssl s_client -tls1 (at SECLEVEL=0)",
         "-tls1 -cipher DEFAULT@SECLEVEL=0 -cert ca/alice.crt -key ca/alice.key", "protocol error",
         "TLS v1.0 is unacceptable by policy"},
        {"tls: no client certificate (openssl s_client)", "", "denied", "showed no certificate"},
    };
    for (const auto& c : cases) {
        const std::size_t before = audit_lines_from(g.audit(), "::1").size();
        int rc = s_client(g, c.args, &out);
        auto lines = wait_audit_from(g.audit(), "::1", before + 1);
        std::string saw = lines.size() == before + 1 ? audit_summary(lines.back()) : "no audit line";
        bool legit = g.legit_ping(tunnel.port);
        long reached = g.attacker_backend_connections();
        bool ok = rc != 0 && has(saw, "denied (" + c.reason + "): tls") && has(saw, c.detail);
        std::string alert = alert_in(out);
        CHECK_MESSAGE(ok, c.name << ": openssl exit " << rc << "; gate: " << saw << "\n" << out);
        CHECK(legit);
        CHECK(reached == 0);
        record(c.name, "openssl fails; refused (" + c.reason + "): " + c.detail + "; legit client gets in",
               "openssl exit " + std::to_string(rc) + (alert.empty() ? "" : " (" + alert + ")") + "; gate: " + saw +
                   "; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
               ok && legit && reached == 0);
    }
}
