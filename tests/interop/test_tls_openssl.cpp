// The authchain TLS layer and `authchain ca` against the real openssl and
// stunnel4 (Debian).
#include "tests/interop/tls_interop.hpp"

using namespace authchain::tls_interop;

namespace {

// `openssl s_client` sending PING to the gate (stdin kept open a moment so
// the reply arrives before s_client closes); its output.
std::string s_client(Setup& s, std::uint16_t port, const std::string& extra) {
    std::string out;
    s.try_run("(printf 'PING\\r\\n'; sleep 1) | timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(port) +
                  " -CAfile ca/ca.crt -verify_return_error -servername server.example -no_ign_eof " + extra,
              &out);
    return out;
}

}  // namespace

TEST_CASE("tls interop: openssl s_client gets through the gate with a client certificate, not without" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    s.make_ca();
    Redis redis(s.dir.path());
    Daemon gate = s.gate(redis, gate_keys);
    const std::string with = s_client(s, gate.port, "-cert ca/alice.crt -key ca/alice.key");
    CHECK_MESSAGE(with.find("+PONG") != std::string::npos, with);
    CHECK(with.find("Verify return code: 0 (ok)") != std::string::npos);
    CHECK(with.find("TLSv1.2") != std::string::npos);
    const std::string without = s_client(s, gate.port, "");
    CHECK_MESSAGE(without.find("+PONG") == std::string::npos, without);
    // TLS 1.1 is refused outright.
    const std::string old = s_client(s, gate.port, "-cert ca/alice.crt -key ca/alice.key -tls1_1");
    CHECK(old.find("+PONG") == std::string::npos);
    CHECK(file_gets(s.dir / "gate-audit.log", "\"cert_subject\":\"CN=alice\""));
    CHECK(file_gets(s.dir / "gate-audit.log", "showed no certificate"));
}

TEST_CASE("tls interop: a stunnel4 client with authchain ca certificates talks to the gate" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    s.make_ca();
    Redis redis(s.dir.path());
    Daemon gate = s.gate(redis, gate_keys);
    // inetd mode: no accept, stdin and stdout are the local side.
    write_file(s.dir / "stunnel.conf", "pid =\ndebug = 3\nclient = yes\nconnect = 127.0.0.1:" +
                                           std::to_string(gate.port) + "\ncert = " + (s.dir / "ca/alice.crt").string() +
                                           "\nkey = " + (s.dir / "ca/alice.key").string() + "\nCAfile = " +
                                           (s.dir / "ca/ca.crt").string() +
                                           "\nverifyChain = yes\ncheckHost = server.example\nsslVersion = TLSv1.2\n");
    std::string out;
    s.try_run("(printf 'PING\\r\\n'; sleep 1) | timeout 20 stunnel4 stunnel.conf 2>stunnel.err", &out);
    CHECK_MESSAGE(out.find("+PONG") != std::string::npos, out << read_file(s.dir / "stunnel.err"));
}

TEST_CASE("tls interop: the authchain TLS client against openssl s_server -Verify 1" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    s.make_ca();
    Process server({"openssl", "s_server", "-accept", "0", "-cert", (s.dir / "ca/server.example.crt").string(), "-key",
                    (s.dir / "ca/server.example.key").string(), "-CAfile", (s.dir / "ca/ca.crt").string(),
                    "-Verify", "1", "-verify_return_error", "-rev"},
                   s.dir / "s_server.out");
    const std::uint16_t port = wait_port(server, s.dir / "s_server.out", "ACCEPT [::]:");
    std::string out;
    CHECK_MESSAGE(s.probe(port, client_keys, &out) == 0, out);
    CHECK(out.find("CN=server.example") != std::string::npos);
    CHECK(out.find("TLSv1.2 ECDHE-ECDSA-") != std::string::npos);
    // The wrong name is refused by us (exit 3: denied).
    std::string wrong;
    const std::string other_name = "cert = \"ca/alice.crt\"\nkey = \"ca/alice.key\"\nca = \"ca/ca.crt\"\n"
                                   "server_name = \"db.example\"\n";
    CHECK_MESSAGE(s.probe(port, other_name, &wrong) == 3, wrong);
    // Without our certificate s_server refuses us.
    std::string anonymous;
    CHECK(s.probe(port, "ca = \"ca/ca.crt\"\nserver_name = \"server.example\"\n", &anonymous) != 0);
}

TEST_CASE("tls interop: certificates made by openssl req and x509 are accepted" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";
    s.run("mkdir -m 700 o && cd o && openssl req -x509 " + ec +
          " -keyout ca.key -out ca.crt -subj /CN=openssl-CA -days 2"
          " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
    s.run("cd o && printf 'subjectAltName=DNS:server.example\\nextendedKeyUsage=serverAuth\\n' > server.ext && "
          "printf 'extendedKeyUsage=clientAuth\\n' > client.ext && "
          "openssl req " + ec + " -keyout server.key -out server.csr -subj /CN=server.example && "
          "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile server.ext"
          " -out server.crt && "
          "openssl req " + ec + " -keyout client.key -out client.csr -subj /CN=carol/O=Example && "
          "openssl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -extfile client.ext"
          " -out client.crt && chmod 600 *.key");
    Redis redis(s.dir.path());
    Daemon gate = s.gate(redis, "cert = \"o/server.crt\"\nkey = \"o/server.key\"\nca = \"o/ca.crt\"\n");
    std::string out;
    CHECK_MESSAGE(s.probe(gate.port,
                          "cert = \"o/client.crt\"\nkey = \"o/client.key\"\nca = \"o/ca.crt\"\n"
                          "server_name = \"server.example\"\n",
                          &out) == 0,
                  out);
    CHECK(out.find("CN=server.example") != std::string::npos);
    CHECK(file_gets(s.dir / "gate-audit.log", "O=Example,CN=carol"));  // as openssl -nameopt RFC2253
}

TEST_CASE("tls interop: authchain ca output passes openssl verify and x509 -text" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    s.make_ca();
    CHECK(s.run("openssl verify -CAfile ca/ca.crt ca/server.example.crt ca/alice.crt").find("alice.crt: OK") !=
          std::string::npos);
    const std::string ca_text = s.run("openssl x509 -in ca/ca.crt -noout -text");
    CHECK(ca_text.find("CA:TRUE, pathlen:0") != std::string::npos);
    CHECK(ca_text.find("ASN1 OID: prime256v1") != std::string::npos);
    const std::string server_text = s.run("openssl x509 -in ca/server.example.crt -noout -text");
    CHECK(server_text.find("CA:FALSE") != std::string::npos);
    CHECK(server_text.find("TLS Web Server Authentication") != std::string::npos);
    CHECK(server_text.find("IP Address:127.0.0.1") != std::string::npos);
    CHECK(server_text.find("DNS:server.example") != std::string::npos);
    CHECK(s.run("openssl x509 -in ca/alice.crt -noout -text").find("TLS Web Client Authentication") !=
          std::string::npos);
    CHECK(s.run("openssl pkey -in ca/alice.key -noout -text").find("prime256v1") != std::string::npos);
}

TEST_CASE("tls interop: authchain ca sign takes only the key and name of an openssl CSR" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    s.make_ca();
    s.run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout evil.key -out evil.csr"
          " -subj /CN=evil -addext basicConstraints=critical,CA:TRUE -addext subjectAltName=DNS:bank.example");
    s.run(s.bin + " ca sign ca evil.csr --client --out .");
    const std::string text = s.run("openssl x509 -in evil.crt -noout -text");
    CHECK(text.find("CA:FALSE") != std::string::npos);
    CHECK(text.find("bank.example") == std::string::npos);
    CHECK(text.find("TLS Web Client Authentication") != std::string::npos);
    CHECK(s.run("openssl verify -CAfile ca/ca.crt evil.crt").find("evil.crt: OK") != std::string::npos);
    std::string out;
    CHECK(s.try_run(s.bin + " ca sign ca evil.csr --client --hours 2000", &out) == 2);
}

TEST_CASE("tls interop: SIGHUP makes the gate use a renewed certificate for new connections" *
          doctest::skip(skip_missing(tools()))) {
    require_tools(tools());
    Setup s;
    s.make_ca();
    Redis redis(s.dir.path());
    Daemon gate = s.gate(redis, gate_keys);
    auto spki = [&]() {
        std::string out;
        REQUIRE_MESSAGE(s.probe(gate.port, client_keys, &out) == 0, out);
        auto at = out.find("sha256//");
        REQUIRE(at != std::string::npos);
        return out.substr(at, 52);
    };
    const std::string before = spki();
    s.run(s.bin + " ca issue ca --name server.example --server --dns server.example");  // a new key
    gate.process->signal(SIGHUP);
    // Bounded: 100 probes, each a new connection; the reload is asynchronous.
    std::string after = before;
    for (int i = 0; i < 100 && after == before; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        after = spki();
    }
    CHECK(after != before);
}
