// End to end with the Python RPC frameworks authchain descends from, as
// Debian ships them (python3-rpyc 5.3, python3-pyro4 4.82, under
// /usr/bin/python3): unmodified servers behind `authchain gate`, unmodified
// clients through `authchain tunnel`, the identity read by the backend with
// contrib/python/authchain_proxy.py.
//
//   rpyc/Pyro4 client -> tunnel (secure_channel | public_key)
//     -> gate (ip_filter | secure_channel | public_key, PROXY v2) -> backend
//
// and, with no tunnel, Python's own TLS straight to a gate with a tls layer:
//
//   rpyc.classic.ssl_connect / Pyro4 (config.SSL) with a client certificate
//     -> gate (tls with `authchain ca` certificates, PROXY v2) -> backend
//
// The Python helpers are in tests/tools/python/; servers are started and
// stopped by PID (e2e::Process), clients run under `timeout`.
#include <chrono>
#include <thread>

#include "tests/tools/gate_fixture.hpp"

namespace {

const std::string python = "/usr/bin/python3";  // Debian's, with python3-rpyc and python3-pyro4

std::filesystem::path helper(const std::string& name) {
    const char* root = std::getenv("AUTHCHAIN_SOURCE_ROOT");
    REQUIRE(root != nullptr);
    return std::filesystem::path(root) / "tests" / "tools" / "python" / name;
}

bool python_imports(const std::string& module) {
    return shell(python + " -c 'import " + module + "' >/dev/null 2>&1") == 0;
}
bool skip_without(const std::string& module) { return skip_missing_requested() && !python_imports(module); }
void require_module(const std::string& module) {
    if (!python_imports(module))
        FAIL(python << " cannot import " << module << " (apt-get install python3-" << module
                    << ", or set AUTHCHAIN_TEST_SKIP_MISSING=1 to skip)");
}

// Runs a client helper, bounded: its output, and *status its exit code.
std::string run_client(const std::string& script, const std::string& args, int limit_s, int* status) {
    std::string out;
    *status = shell("timeout " + std::to_string(limit_s) + " " + python + " " + q(helper(script)) + " " + args +
                        " 2>&1",
                    &out);
    return out;
}

// Waits (bounded: 500 polls, 10 s) until `log` contains `text`; returns the log.
std::string wait_for_text(Process& p, const std::filesystem::path& log, const std::string& text) {
    for (int i = 0; i < 500; ++i) {
        std::string now = std::filesystem::exists(log) ? read_file(log) : std::string();
        if (now.find(text) != std::string::npos) return now;
        if (p.wait(std::chrono::milliseconds(0))) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL("no \"" << text << "\" in " << log.string() << ": "
                 << (std::filesystem::exists(log) ? read_file(log) : std::string()));
    return {};
}

// Audit lines of connections that passed the tls layer with alice's
// certificate. Their verdict is "error", not "accepted": Python's ssl
// sockets (RPyC's and Pyro4's close) end without close_notify, which the
// gate cannot tell from a truncation attack.
std::size_t count_alice(const std::vector<json>& lines) {
    std::size_t n = 0;
    for (const auto& l : lines)
        n += l.at("identity").value("cert_subject", "") == "CN=alice" &&
             l.at("layers") == json::array({"transport", "connection_limit", "tls"});
    return n;
}
// Audit lines of connections refused for want of a client certificate.
std::size_t count_no_certificate(const std::vector<json>& lines) {
    std::size_t n = 0;
    for (const auto& l : lines)
        n += l.at("verdict") == "denied" && l.at("identity").empty() &&
             l.value("detail", "").find("the client showed no certificate") != std::string::npos;
    return n;
}

std::size_t count(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
    return n;
}

// How often `part` is in what `output()` returns, polled until it is at
// least `n` (the backend logs a connection just after serving it): bounded,
// 500 polls or 10 s.
template <class Source>
std::size_t count_at_least(const Source& output, const std::string& part, std::size_t n) {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::size_t seen = count(output(), part);
    for (int i = 0; i < 500 && seen < n && std::chrono::steady_clock::now() < until; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        seen = count(output(), part);
    }
    return seen;
}

// An RPyC server (tests/tools/python/rpyc_backend.py MODE) on a unix socket
// only the test's user can reach, its log in the setup's directory.
struct RpycBackend {
    std::filesystem::path socket, log;
    std::unique_ptr<Process> process;
    RpycBackend(Setup& s, const std::string& mode)
        : socket(s.dir / "rpyc.sock"), log(s.dir / "rpyc.log") {
        process = std::make_unique<Process>(
            std::vector<std::string>{python, helper("rpyc_backend.py").string(), mode, socket.string()}, log);
        wait_for_text(*process, log, "ready");
    }
    std::string backend() const { return "unix:" + socket.string(); }
    std::string output() const { return read_file(log); }
};

const std::string proxy_v2_on = "proxy_protocol = \"v2\"\n";

// Certificates made with the real commands: `authchain ca init DIR/ca`, a
// gate certificate for 127.0.0.1 and localhost, a client certificate
// "alice"; and the gate's tls layer over them.
struct TlsFiles {
    std::filesystem::path ca;
    explicit TlsFiles(Setup& s) : ca(s.dir / "ca") {
        ca_command(s, "init " + q(ca) + " --name 'e2e CA'");
        ca_command(s, "issue " + q(ca) + " --name gate --server --ip 127.0.0.1 --dns localhost");
        ca_command(s, "issue " + q(ca) + " --name alice --client");
    }
    static void ca_command(Setup& s, const std::string& args) {
        std::string out;
        int rc = shell(s.bin + " ca " + args + " 2>&1", &out);
        REQUIRE_MESSAGE(rc == 0, "authchain ca " << args << ": " << out);
    }
    std::string file(const std::string& name) const { return q(ca / name); }
    // The client's arguments for the helpers: CA [CERT KEY].
    std::string client_args(bool with_certificate) const {
        return file("ca.crt") + (with_certificate ? " " + file("alice.crt") + " " + file("alice.key") : "");
    }
    std::string gate_layer() const {
        return "[[layer]]\nkind = \"tls\"\n"
               "cert = \"" + (ca / "gate.crt").string() + "\"\n"
               "key = \"" + (ca / "gate.key").string() + "\"\n"
               "ca = \"" + (ca / "ca.crt").string() + "\"\n"
               "require_client_cert = true\n";
    }
};

}  // namespace

TEST_CASE("rpyc e2e: classic server behind a gate; remote calls and a 10 MB round trip through a tunnel" *
          doctest::skip(skip_without("rpyc"))) {
    require_module("rpyc");
    Setup s;
    RpycBackend backend(s, "classic");
    auto gate = s.gate(s.gate_config(backend.backend(), proxy_v2_on));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));

    int status = -1;
    std::string out = run_client("rpyc_client.py", "classic " + std::to_string(tunnel.port), 120, &status);
    CHECK_MESSAGE(status == 0, out);
    CHECK(out.find("ok classic") != std::string::npos);
    CHECK(count_at_least([&] { return backend.output(); }, "accepted " + s.fingerprint("client"), 1) == 1);

    // A client that bypasses the gate has no PROXY header: the module refuses it.
    std::string direct = run_client("rpyc_client.py", "direct " + q(backend.socket), 30, &status);
    CHECK_MESSAGE(status == 0, direct);
    CHECK(direct.find("ok refused") != std::string::npos);
    CHECK(backend.output().find("refused: no PROXY v2 header") != std::string::npos);
}

TEST_CASE("rpyc e2e: 20 concurrent classic clients through one tunnel" * doctest::skip(skip_without("rpyc"))) {
    require_module("rpyc");
    Setup s;
    RpycBackend backend(s, "classic");
    auto gate = s.gate(s.gate_config(backend.backend(), proxy_v2_on));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));

    int status = -1;
    std::string out = run_client("rpyc_client.py", "concurrent " + std::to_string(tunnel.port) + " 20", 180, &status);
    CHECK_MESSAGE(status == 0, out);
    CHECK(out.find("ok concurrent 20") != std::string::npos);
    CHECK(count_at_least([&] { return backend.output(); }, "accepted " + s.fingerprint("client"), 20) == 20);
    CHECK(wait_audit(s.dir / "gate-audit.log", 20).size() == 20);
}

TEST_CASE("rpyc e2e: the service sees the identity the gate proved, through the contrib module" *
          doctest::skip(skip_without("rpyc"))) {
    require_module("rpyc");
    Setup s;
    RpycBackend backend(s, "service");
    auto gate = s.gate(s.gate_config(backend.backend(), proxy_v2_on));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));

    int status = -1;
    std::string out = run_client("rpyc_client.py", "whoami " + std::to_string(tunnel.port), 60, &status);
    REQUIRE_MESSAGE(status == 0, out);
    auto at = out.find("ok whoami ");
    REQUIRE(at != std::string::npos);
    json seen = json::parse(out.substr(at + 10));
    CHECK(seen.at("key_fingerprint") == s.fingerprint("client"));
    CHECK(seen.at("key_comment") == "client@e2e");
    CHECK(seen.at("peer").at(0) == "127.0.0.1");
    CHECK(seen.at("user").is_null());
    CHECK(seen.at("cert_subject").is_null());
    CHECK(seen.at("psk_id").is_null());
    CHECK(seen.at("unique_id").get<std::string>().size() >= 32);  // hex of the channel id
}

TEST_CASE("rpyc e2e: an unknown key is denied and never reaches the backend" *
          doctest::skip(skip_without("rpyc"))) {
    require_module("rpyc");
    Setup s;
    RpycBackend backend(s, "service");
    auto gate = s.gate(s.gate_config(backend.backend(), proxy_v2_on));
    auto tunnel = s.tunnel(s.tunnel_config("stranger", "stranger"));

    int status = -1;
    std::string out = run_client("rpyc_client.py", "whoami " + std::to_string(tunnel.port), 60, &status);
    CHECK(status != 0);
    CHECK(out.find("ok whoami") == std::string::npos);
    auto lines = wait_audit(s.dir / "gate-audit.log", 1);
    REQUIRE(lines.size() >= 1);
    CHECK(lines[0].at("verdict") != "accepted");
    CHECK(count(backend.output(), "connection") == 0);  // not one connection reached the backend
}

TEST_CASE("pyro4 e2e: a daemon behind a gate, a proxy through the tunnel, NAT-addressed proxies" *
          doctest::skip(skip_without("Pyro4"))) {
    require_module("Pyro4");
    Setup s;
    auto log = s.dir / "pyro.log", natport = s.dir / "natport";
    Process daemon({python, helper("pyro_backend.py").string(), natport.string()}, log);
    wait_for_text(daemon, log, "listening ");
    auto backend_port = e2e::port_after(read_file(log), "listening ");
    REQUIRE(backend_port);
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(*backend_port), proxy_v2_on));
    auto tunnel = s.tunnel(s.tunnel_config("tunnel", "client"));
    write_file(natport, std::to_string(tunnel.port) + "\n");
    std::string text = wait_for_text(daemon, log, "uri PYRO:");
    auto at = text.find("uri PYRO:");
    std::string uri = trim(text.substr(at + 4, text.find('\n', at) - at - 4));
    CHECK(uri == "PYRO:authchain.echo@127.0.0.1:" + std::to_string(tunnel.port));

    int status = -1;
    std::string out = run_client("pyro_client.py", q(uri), 60, &status);
    REQUIRE_MESSAGE(status == 0, out);
    auto ok = out.find("ok pyro ");
    REQUIRE(ok != std::string::npos);
    json seen = json::parse(out.substr(ok + 8));
    CHECK(seen.at("key_fingerprint") == s.fingerprint("client"));
}

TEST_CASE("rpyc e2e: rpyc.classic.ssl_connect with an `authchain ca` client certificate straight to a tls gate" *
          doctest::skip(skip_without("rpyc"))) {
    require_module("rpyc");
    Setup s;
    TlsFiles tls(s);
    RpycBackend backend(s, "classic");
    auto gate = s.gate(s.gate_config(backend.backend(), proxy_v2_on, tls.gate_layer()));
    const std::string port = std::to_string(gate.port);

    int status = -1;
    std::string out = run_client("rpyc_client.py", "ssl " + port + " " + tls.client_args(true), 60, &status);
    CHECK_MESSAGE(status == 0, out);
    CHECK(out.find("ok ssl") != std::string::npos);
    CHECK(count(backend.output(), "connection") == 1);
    CHECK(count(backend.output(), "accepted cert ") == 1);
    CHECK(backend.output().find("CN=alice") != std::string::npos);
    CHECK(count_alice(wait_audit(s.dir / "gate-audit.log", 1)) == 1);

    // Without a client certificate: refused by the gate, the backend never contacted.
    std::string refused = run_client("rpyc_client.py", "ssl " + port + " " + tls.client_args(false), 60, &status);
    CHECK_MESSAGE(status == 0, refused);
    CHECK(refused.find("ok refused") != std::string::npos);
    auto lines = wait_audit(s.dir / "gate-audit.log", 2);
    CHECK(lines.size() == 2);
    CHECK(count_alice(lines) == 1);
    CHECK(count_no_certificate(lines) == 1);
    CHECK(count(backend.output(), "connection") == 1);  // still only the first client's
}

TEST_CASE("pyro4 e2e: Pyro4's SSL settings with an `authchain ca` client certificate straight to a tls gate" *
          doctest::skip(skip_without("Pyro4"))) {
    require_module("Pyro4");
    Setup s;
    TlsFiles tls(s);
    auto log = s.dir / "pyro.log", natport = s.dir / "natport";
    Process daemon({python, helper("pyro_backend.py").string(), natport.string()}, log);
    wait_for_text(daemon, log, "listening ");
    auto backend_port = e2e::port_after(read_file(log), "listening ");
    REQUIRE(backend_port);
    // The daemon stays plain behind the gate; the gate does TLS. Its URIs
    // name the gate, whose certificate carries IP:127.0.0.1 (Pyro4 checks it).
    auto gate = s.gate(s.gate_config("127.0.0.1:" + std::to_string(*backend_port), proxy_v2_on, tls.gate_layer()));
    write_file(natport, std::to_string(gate.port) + "\n");
    std::string text = wait_for_text(daemon, log, "uri PYRO:");
    auto at = text.find("uri PYRO:");
    std::string uri = trim(text.substr(at + 4, text.find('\n', at) - at - 4));
    CHECK(uri == "PYRO:authchain.echo@127.0.0.1:" + std::to_string(gate.port));

    int status = -1;
    std::string out = run_client("pyro_client.py", q(uri) + " " + tls.client_args(true), 60, &status);
    REQUIRE_MESSAGE(status == 0, out);
    auto ok = out.find("ok pyro ");
    REQUIRE(ok != std::string::npos);
    json seen = json::parse(out.substr(ok + 8));
    CHECK(seen.at("cert_subject").get<std::string>().find("CN=alice") != std::string::npos);
    CHECK(seen.at("cert_fingerprint").get<std::string>().rfind("sha256//", 0) == 0);
    CHECK(seen.at("key_fingerprint").is_null());
    CHECK(wait_audit(s.dir / "gate-audit.log", 2).size() == 2);  // the echo proxy and the counter's

    // Without a client certificate: refused by the gate.
    std::string refused = run_client("pyro_client.py", q(uri) + " " + tls.client_args(false), 60, &status);
    CHECK_MESSAGE(status == 0, refused);
    CHECK(refused.find("ok refused") != std::string::npos);
    auto lines = wait_audit(s.dir / "gate-audit.log", 3);
    CHECK(lines.size() == 3);
    CHECK(count_alice(lines) == 2);
    CHECK(count_no_certificate(lines) == 1);
}

TEST_CASE("contrib authchain_proxy reads the header authchain's encoder writes, no byte more, and refuses malformed ones" *
          doctest::skip(skip_missing_requested() && !python_imports("socket"))) {
    TempDir dir;
    Credentials c;
    c.prove("public_key", &Credentials::key_fingerprint, "SHA256:abcdef");
    c.prove("public_key", &Credentials::key_comment, "alice@laptop");
    c.prove("password", &Credentials::user, "alice");
    c.prove("psk", &Credentials::psk_id, "client-7");
    c.prove("tls", &Credentials::cert_subject, "CN=alice,O=Example");
    c.prove("secure_channel", &Credentials::channel_id, Bytes{0xde, 0xad, 0xbe, 0xef});
    Bytes header = proxy_v2::encode_for({asio::ip::make_address("192.0.2.7"), 40123},
                                        {asio::ip::make_address("::1"), 7000}, c);
    std::string bytes(header.begin(), header.end());
    write_file(dir / "header", bytes + "REST");

    int status = -1;
    std::string out = run_client("proxy_header_cases.py", q(dir / "header"), 60, &status);
    REQUIRE_MESSAGE(status == 0, out);
    auto at = out.find("parsed ");
    REQUIRE(at != std::string::npos);
    json seen = json::parse(out.substr(at + 7, out.find('\n', at) - at - 7));
    CHECK(seen.at("key_fingerprint") == "SHA256:abcdef");
    CHECK(seen.at("key_comment") == "alice@laptop");
    CHECK(seen.at("user") == "alice");
    CHECK(seen.at("psk_id") == "client-7");
    CHECK(seen.at("cert_subject") == "CN=alice,O=Example");
    CHECK(seen.at("unique_id") == "deadbeef");
    CHECK(seen.at("peer").at(0) == "192.0.2.7");  // written v4-mapped (the other is IPv6), read as IPv4
    CHECK(seen.at("peer").at(1) == 40123);
    CHECK(seen.at("destination").at(0) == "::1");
    CHECK(out.find("rest REST") != std::string::npos);
    CHECK(out.find("ok malformed") != std::string::npos);
}
