// Stateful fuzzing of whole server chains over the pipe transport: a real
// Server driver runs
//   A  ip_filter | secure_channel | public_key
//   B  ip_filter | secure_channel | any_of(public_key, password) | psk
// against an honest client whose writes a program from the input changes
// (server_chain_program.hpp: pass, flip, truncate, replace, insert, append,
// drop, duplicate, hold), on the wire and inside the secure channel, so the
// fuzzer reaches every message of every layer past the Noise handshake.
//
// Input: byte 0 scenario (% 5), byte 1 flags, byte 2 application bytes the
// client sends once authenticated, then the program.
//   scenario 0  A, the listed user key        3  B, an unlisted key first (fails), then password
//   scenario 1  B, public_key first           4  A, an unlisted key (refused)
//   scenario 2  B, password first
//   flags bits 0-1: peer 127.0.0.1, ::1, ::ffff:127.0.0.1, 10.1.2.3 (not allowed)
//         bits 2-3: client suites: default; ChaChaPoly first (two round trips);
//                   ChaChaPoly_BLAKE2b only; AESGCM_SHA512 only
//         bit 4: the server reads one byte at a time; bit 5: the client does
//
// Besides crashes, sanitizer reports and hangs, it aborts when
//   - a layer or the driver fails with anything but a refusal (on_error);
//   - the server accepts a peer ip_filter refuses, or without the proofs its
//     chain asks for (the listed key; psk and the key or alice's password);
//   - the client learned "accepted" and the server did not accept;
//   - not exactly one audit record, or its verdict is not the handler's;
//   - the handler reads bytes the client did not send inside the channel
//     (wire changes must fail the record's tag, never alter the data).
// Deterministic: the keys are fixed, files are written once per process;
// the only randomness (Noise ephemeral keys, nonces, salts) comes from
// Botan's system RNG inside the library and changes no decision: every op
// is structural. The io_context is polled until nothing can run, so no
// clock decides anything; a stalled handshake is ended by closing the
// client, as the deadline would.
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <authchain/auth/ip_filter.hpp>
#include <authchain/auth/password.hpp>
#include <authchain/auth/psk.hpp>
#include <authchain/auth/public_key.hpp>
#include <authchain/compose/any_of.hpp>
#include <authchain/compose/server.hpp>
#include <authchain/transport/pipe.hpp>
#include <authchain/transport/secure_channel.hpp>
#include "tests/fuzz/server_chain_program.hpp"

using namespace authchain;
using namespace authchain::fuzz;

namespace {

// Test-only keys (ssh-keygen -t ed25519 -N ''), fixed so seeds may carry their blobs.
constexpr const char* host_key_text = R"(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACCDPYyNcYjSx1b2vINBSgBiqepQQ5YSAL5Agv+vWCKh2QAAAJDMbKM3zGyj
NwAAAAtzc2gtZWQyNTUxOQAAACCDPYyNcYjSx1b2vINBSgBiqepQQ5YSAL5Agv+vWCKh2Q
AAAECTtd9OGMmnXLqyTZF1VbGPBQu0LkigLu3rvR0ppAerL4M9jI1xiNLHVva8g0FKAGKp
6lBDlhIAvkCC/69YIqHZAAAACWhvc3RAZnV6egECAwQ=
-----END OPENSSH PRIVATE KEY-----
)";
constexpr const char* user_key_text = R"(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDffKuEq1Hl5WtAa8BVKtUSEuneyEVbcAoaPXZC+zgh/QAAAJALvWs6C71r
OgAAAAtzc2gtZWQyNTUxOQAAACDffKuEq1Hl5WtAa8BVKtUSEuneyEVbcAoaPXZC+zgh/Q
AAAEBKPH46cst6dzfnkZ95bHTydJcVheG1l+kn5k27jkK+6t98q4SrUeXla0BrwFUq1RIS
6d7IRVtwCho9dkL7OCH9AAAACXVzZXJAZnV6egECAwQ=
-----END OPENSSH PRIVATE KEY-----
)";
constexpr const char* other_key_text = R"(-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBn2SCl14kE8dYquGQGSXVwJMtWYPP1j4hES8HGvY58hAAAAJBsH5K8bB+S
vAAAAAtzc2gtZWQyNTUxOQAAACBn2SCl14kE8dYquGQGSXVwJMtWYPP1j4hES8HGvY58hA
AAAEBiKu1t7f8B/gd9cak8x1n0jOFMjxrSQ9acsWY2wxKTNGfZIKXXiQTx1iq4ZAZJdXAk
y1Zg8/WPiERLwca9jnyEAAAACm90aGVyQGZ1enoBAgM=
-----END OPENSSH PRIVATE KEY-----
)";
constexpr const char* password_text = "correct horse";
// The cheapest Argon2id the database takes: the fuzzer should spend its time on messages.
constexpr userdb::Argon2Params cheap_argon2{8, 1, 1};

[[noreturn]] void fail(const std::string& why) {
    std::fprintf(stderr, "fuzz_server_chain: %s\n", why.c_str());
    std::abort();
}

// A private directory (0700) under the temp dir holding every file the
// layers read, written once; removed at exit.
struct Files {
    std::filesystem::path dir;
    std::string user_fingerprint;

    Files() {
        std::string pattern = (std::filesystem::temp_directory_path() / "authchain-fuzz-XXXXXX").string();
        if (!mkdtemp(pattern.data())) fail("mkdtemp failed");
        dir = pattern;
        write("host_key", host_key_text);
        write("id_user", user_key_text);
        write("id_other", other_key_text);
        auto user = openssh::PrivateKey::parse(user_key_text);
        auto host = openssh::PrivateKey::parse(host_key_text);
        user_fingerprint = user.public_key().fingerprint();
        write("authorized_keys", user.public_key().to_line("user@fuzz") + "\n");
        write("known_hosts", "server.example " + host.public_key().to_line() + "\n");
        write("users", "alice:" + userdb::hash_password(password_text, cheap_argon2) + "\n");
        write_psk_key_file(dir / "psk", "fuzz", false);
    }
    ~Files() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    std::filesystem::path operator/(const char* name) const { return dir / name; }
    void write(const char* name, const std::string& text) const {
        std::ofstream(dir / name) << text;
        std::filesystem::permissions(dir / name, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    }
};

// The layers, built once (they read their files at construction).
struct Layers {
    Files files;
    std::shared_ptr<PasswordCheckPool> pool = std::make_shared<PasswordCheckPool>(1);
    Authenticator server_a, server_b;
    std::vector<Authenticator> client_secure;  // by flags bits 2-3
    std::vector<Authenticator> client_rest;    // by scenario

    Layers() {
        PublicKeyServerOptions pk{.host_key = files / "host_key", .authorized_keys = files / "authorized_keys"};
        auto filter = ip_filter({.allow = {"127.0.0.0/8", "::1"}});
        Authenticator server_pk = public_key(pk);
        server_a = filter | secure_channel() | server_pk;
        Authenticator server_password = password({.users = files / "users", .minimum = cheap_argon2,
                                                  .max_check_wait = std::chrono::milliseconds(60000),
                                                  .check_pool = pool});
        server_b = filter | secure_channel() |
                   any_of({{"public_key", server_pk}, {"password", server_password}}) |
                   psk({.keys = files / "psk"});

        for (auto suites : std::vector<std::vector<std::string>>{
                 secure_channel_suites(),
                 {"25519_ChaChaPoly_SHA256", "25519_AESGCM_SHA256"},
                 {"25519_ChaChaPoly_BLAKE2b"},
                 {"25519_AESGCM_SHA512"}})
            client_secure.push_back(client::secure_channel({.suites = suites}));

        auto key = [this](const char* identity) {
            return client::public_key({.identity = files / identity, .known_hosts = files / "known_hosts",
                                       .host_name = "server.example"});
        };
        Authenticator user_key = key("id_user"), other_key = key("id_other");
        Authenticator pw = client::password({.user = "alice", .password = password_text,
                                             .allow_unauthenticated_server = true});
        Authenticator client_psk = client::psk({.key_file = files / "psk", .key_id = "fuzz"});
        client_rest = {
            user_key,
            client::any_of({{"public_key", user_key}, {"password", pw}}) | client_psk,
            client::any_of({{"password", pw}, {"public_key", user_key}}) | client_psk,
            client::any_of({{"public_key", other_key}, {"password", pw}}) | client_psk,
            other_key,
        };
    }
};

Layers& layers() {
    static Layers l;
    return l;
}

const asio::ip::address peers[] = {asio::ip::make_address("127.0.0.1"), asio::ip::make_address("::1"),
                                   asio::ip::make_address("::ffff:127.0.0.1"),
                                   asio::ip::make_address("10.1.2.3")};

// What one connection ended with, on both sides.
struct Outcome {
    bool client_done = false, client_accepted = false;
    int audits = 0;
    bool audit_accepted = false;
    std::string audit_line;  // for AUTHCHAIN_FUZZ_VERBOSE
    bool handler_ran = false, handler_done = false, clean_end = false;
    std::optional<Credentials> credentials;
    Bytes received;
};

asio::awaitable<void> client_side(Stream raw, Authenticator chain, Bytes app, std::shared_ptr<Program> program,
                                  Outcome& out) {
    Stream wire = Stream::wrap<Tap>(std::move(raw), program, Level::wire);
    try {
        Session s = co_await authenticate(std::move(wire), chain);
        out.client_accepted = true;
        co_await write_all(s.stream, asio::buffer(app));
        co_await s.stream.shutdown_send();
        std::uint8_t buf[512];
        while (co_await s.stream.read_some(asio::buffer(buf)) > 0) {
        }
    } catch (const std::exception&) {
        // Refused, or the program broke the client: the server is what is tested.
    }
    out.client_done = true;
}

asio::awaitable<void> handler(Session s, Outcome& out) {
    out.handler_ran = true;
    out.credentials = s.credentials;
    try {
        std::uint8_t buf[512];
        for (;;) {
            std::size_t n = co_await s.stream.read_some(asio::buffer(buf));
            if (n == 0) {
                out.clean_end = true;
                break;
            }
            out.received.insert(out.received.end(), buf, buf + n);
        }
        co_await s.stream.shutdown_send();
    } catch (const std::exception&) {
        // A failed record ends the session: that is the expected way.
    }
    out.handler_done = true;
}

Handler record_into(Outcome& out) {
    return [&out](Session s) { return handler(std::move(s), out); };
}

asio::awaitable<Session> tap_session(Session s, std::shared_ptr<Program> program) {
    s.stream = Stream::wrap<Tap>(std::move(s.stream), std::move(program), Level::inner);
    co_return s;
}

// The client layer that puts the program's inner tap under the layers after secure_channel.
Authenticator tap_inner(std::shared_ptr<Program> program) {
    return [program](Session s) { return tap_session(std::move(s), program); };
}

// Runs what is ready until nothing is (waiting for the password pool's
// thread when a check is running). Bounded, so a busy loop is a finding.
void drain(asio::io_context& io, const PasswordCheckPool& pool) {
    for (int round = 0; round < 1'000'000; ++round) {
        if (io.stopped()) io.restart();
        if (io.poll() > 0) continue;
        if (pool.in_use() > 0 || pool.waiting() > 0) {
            if (io.stopped()) io.restart();
            io.run_one_for(std::chrono::milliseconds(5));
            continue;
        }
        return;
    }
    fail("the connection never went quiet (busy loop)");
}

void check(const Outcome& out, int scenario, bool peer_allowed, const Program& program) {
    if (out.audits != 1) fail("audit records: " + std::to_string(out.audits) + ", expected 1");
    if (out.audit_accepted != out.handler_ran) fail("the audit's verdict is not the handler's");
    if (out.client_accepted && !out.handler_ran) fail("the client was told accepted, the server did not accept");
    if (out.handler_ran && !out.handler_done) fail("the handler never finished");
    if (!out.handler_ran) return;
    if (!peer_allowed) fail("accepted a peer that ip_filter refuses");
    if (scenario == 4) fail("accepted an unlisted key");
    const Credentials& c = *out.credentials;
    bool key = c.key_fingerprint == layers().files.user_fingerprint;
    if (scenario == 0 && !key) fail("chain A accepted without the listed key");
    if (scenario != 0 && !(c.psk_id == std::string("fuzz") && (key || c.user == std::string("alice"))))
        fail("chain B accepted without psk and a key or alice's password: " + c.identity());
    // The layers consumed a prefix of what the client sent inside the
    // channel; the handler gets what followed (after a clean end: all of it).
    const Bytes& sent = program.recorded(Level::inner);
    bool inside = out.clean_end ? out.received.size() <= sent.size() &&
                                      std::equal(out.received.rbegin(), out.received.rend(), sent.rbegin())
                                : std::search(sent.begin(), sent.end(), out.received.begin(), out.received.end()) !=
                                      sent.end();
    if (!inside)
        fail("the handler read bytes the client did not send (" + std::to_string(out.received.size()) +
             " received, " + std::to_string(sent.size()) + " sent, clean end " +
             std::to_string(out.clean_end) + ")");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Layers& l = layers();
    InputReader in(data, size);
    const int scenario = in.u8() % 5;
    const std::uint8_t flags = in.u8();
    Bytes app(in.u8());
    for (std::size_t i = 0; i < app.size(); ++i) app[i] = static_cast<std::uint8_t>(i * 7 + 1);
    auto program = std::make_shared<Program>(in);
    program->start_recording(Level::inner);

    const asio::ip::address& peer = peers[flags & 3];
    PipeOptions pipe;
    pipe.client.endpoint = {peer, 40000};
    pipe.client.faults.one_byte_at_a_time = (flags & 0x20) != 0;
    pipe.server.faults.one_byte_at_a_time = (flags & 0x10) != 0;
    const bool server_b = scenario == 1 || scenario == 2 || scenario == 3;
    Authenticator client_chain = l.client_secure[(flags >> 2) & 3] | tap_inner(program) | l.client_rest[scenario];

    Outcome out;
    {
        asio::io_context io;
        PipeListener listener(io.get_executor());
        ServerOptions options{
            .handshake_timeout = std::chrono::minutes(10),  // never reached: drain() ends stalls
            .audit = [&out](const AuditRecord& r) {
                ++out.audits;
                out.audit_accepted = r.accepted;
                std::string layers;
                for (const auto& name : r.layers_passed) layers += name + " ";
                out.audit_line = (r.accepted ? "accepted " + r.identity : "refused: " + r.detail) +
                                 " (layers passed: " + layers + ")";
            },
            .on_error = [](const ServerError& e) { fail("server error in " + e.where + ": " + e.what); },
        };
        Server server(listener, server_b ? l.server_b : l.server_a, record_into(out), options);
        asio::co_spawn(io, server.run(), [](std::exception_ptr e) {
            if (e) fail("Server::run failed");
        });
        Stream raw = listener.connect(pipe);
        auto trail = raw.trail();
        asio::co_spawn(io, client_side(std::move(raw), client_chain, app, program, out), asio::detached);
        drain(io, *l.pool);
        if (!out.client_done) {
            trail->close_top();  // a stalled handshake: what the deadline would do
            drain(io, *l.pool);
        }
        server.stop();
        drain(io, *l.pool);
        // Nothing may wait any more (the password pool's thread may still
        // hold work on io for a moment: run until io is out of work).
        io.restart();
        io.run_for(std::chrono::seconds(30));
        if (!io.stopped()) fail("work left waiting after the connection ended");
    }
    // Set to see where each input got (e.g. when growing the seed corpus).
    if (std::getenv("AUTHCHAIN_FUZZ_VERBOSE"))
        std::fprintf(stderr, "scenario %d flags %02x: client %s, server %s; %zu changes\n", scenario, flags,
                     out.client_accepted ? "accepted" : "failed", out.audit_line.c_str(), program->changed());
    check(out, scenario, (flags & 3) != 3, *program);
    return 0;
}
