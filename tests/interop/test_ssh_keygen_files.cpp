// authorized_keys and known_hosts written by the real OpenSSH tools
// (Debian openssh-client) are read and matched as OpenSSH does.
#include <doctest/doctest.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <chrono>
#include <sstream>
#include <string>

#include <authchain/auth/openssh/authorized_keys.hpp>
#include <authchain/auth/openssh/known_hosts.hpp>
#include <authchain/auth/openssh/text_file.hpp>
#include <authchain/auth/public_key.hpp>
#include "tests/interop/ssh_keygen.hpp"
#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"
#include <authchain/transport/pipe.hpp>

using namespace authchain;
using namespace authchain::openssh;
using namespace asio::experimental::awaitable_operators;

namespace {

using authchain::test::require_ssh_keygen;
using authchain::test::skip_without_ssh_keygen;

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

// Makes a key with ssh-keygen; returns the .pub line.
std::string keygen(const test::TempDir& dir, const std::string& name, const std::string& type,
                   const std::string& comment) {
    std::string out;
    std::string bits = type == "rsa" ? " -b 2048" : "";
    int rc = test::shell("ssh-keygen -q -t " + type + bits + " -N '' -C '" + comment + "' -f " +
                             (dir / name).string(), &out);
    REQUIRE_MESSAGE(rc == 0, out);
    return trimmed(test::read_file(dir / (name + ".pub")));
}

PublicKey key_of(const std::string& pub_line) {
    std::istringstream in(pub_line);
    std::string type, base64;
    in >> type >> base64;
    return PublicKey::from_base64(type, base64);
}

// ssh-keygen -F NAME -f FILE: 0 when found.
bool keygen_finds(const std::filesystem::path& file, const std::string& name) {
    std::string out;
    return test::shell("ssh-keygen -F '" + name + "' -f " + file.string(), &out) == 0;
}

}  // namespace

TEST_CASE("interop: authorized_keys with options, keys from ssh-keygen" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    std::string ed = keygen(dir, "ed", "ed25519", "alice@laptop");
    std::string ec = keygen(dir, "ec", "ecdsa", "bob@desk");
    std::string rsa = keygen(dir, "rsa", "rsa", "carol@box");
    std::string text = "# authorized_keys\n" + ed + "\n" +
                       "from=\"127.0.0.0/8,!127.0.0.2\",no-pty,command=\"echo \\\"x\\\"\" " + ec + "\n" +
                       "restrict,permitopen=\"db:5432\",expiry-time=\"20991231\" " + rsa + "\n";
    auto file = dir / "authorized_keys";
    test::write_file(file, text, 0600);

    auto keys = parse_authorized_keys(test::read_file(file), file.string());
    REQUIRE(keys.warnings.empty());
    REQUIRE(keys.entries.size() == 3);
    CHECK(keys.entries[0].key == key_of(ed));
    CHECK(keys.entries[0].comment == "alice@laptop");
    CHECK(keys.entries[1].key == key_of(ec));
    CHECK(keys.entries[1].restrictions.command == std::optional<std::string>("echo \"x\""));
    CHECK(keys.entries[2].key.type() == "ssh-rsa");
    CHECK(keys.entries[2].restrictions.restrict);

    // ssh-keygen -l reads the same file and prints the same fingerprints.
    std::string listing;
    REQUIRE(test::shell("ssh-keygen -l -f " + file.string(), &listing) == 0);
    for (const auto& entry : keys.entries) {
        CAPTURE(listing);
        CHECK(listing.find(entry.key.fingerprint() + " " + entry.comment) != std::string::npos);
    }

    auto now = std::chrono::system_clock::now();
    CHECK(find_authorized_key(keys, key_of(ec), asio::ip::make_address("127.0.0.1"), now));
    CHECK_FALSE(find_authorized_key(keys, key_of(ec), asio::ip::make_address("127.0.0.2"), now));
    CHECK(find_authorized_key(keys, key_of(rsa), asio::ip::make_address("10.0.0.1"), now));
}

TEST_CASE("interop: known_hosts hashed by ssh-keygen -H; lookups agree with ssh-keygen -F" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    test::TempDir dir;
    std::string host = keygen(dir, "host", "ed25519", "host");
    std::string alt = keygen(dir, "alt", "ecdsa", "alt");
    auto file = dir / "known_hosts";
    test::write_file(file,
                     "server.example,192.0.2.7 " + host + "\n" + "[alt.example]:2222 " + alt + "\n" +
                         "other.example " + alt + "\n",
                     0600);
    std::string out;
    REQUIRE_MESSAGE(test::shell("ssh-keygen -H -f " + file.string(), &out) == 0, out);
    std::string hashed = test::read_file(file);
    CHECK(hashed.find("server.example") == std::string::npos);

    auto known = parse_known_hosts(hashed, file.string());
    CHECK(known.warnings.empty());
    CHECK(known.entries.size() == 4);  // one hashed line per name
    struct Case {
        std::string host;
        std::uint16_t port;
    };
    for (const Case& c : {Case{"server.example", 22}, Case{"192.0.2.7", 0}, Case{"alt.example", 2222},
                          Case{"alt.example", 22}, Case{"other.example", 22}, Case{"unknown.example", 22},
                          Case{"server.example", 2222}}) {
        std::string name = known_host_name(c.host, c.port);
        CAPTURE(name);
        bool ours = false;
        for (const auto& k : {key_of(host), key_of(alt)})
            ours = ours || lookup_host_key(known, c.host, c.port, k).status == HostKeyStatus::known;
        CHECK(ours == keygen_finds(file, name));
    }
    CHECK(lookup_host_key(known, "server.example", 22, key_of(host)).status == HostKeyStatus::known);
    CHECK(lookup_host_key(known, "server.example", 22, key_of(alt)).status == HostKeyStatus::changed);

    // The other way round: ssh-keygen -F finds the hashed lines authchain appends.
    auto ours = dir / "known_hosts2";
    append_atomically(ours, known_hosts_line("new.example", 0, key_of(host), true));
    append_atomically(ours, known_hosts_line("new.example", 2022, key_of(alt), true));
    append_atomically(ours, known_hosts_line("plain.example", 0, key_of(alt), false));
    CHECK(keygen_finds(ours, "new.example"));
    CHECK(keygen_finds(ours, "[new.example]:2022"));
    CHECK(keygen_finds(ours, "plain.example"));
    CHECK_FALSE(keygen_finds(ours, "[new.example]:2023"));
}

namespace {

struct Outcome {
    std::optional<Credentials> server, client;
    std::string error;
};

asio::awaitable<std::optional<Credentials>> run_side(const Authenticator& auth, Stream stream, std::string& error) {
    try {
        Session s = co_await auth(start_session(std::move(stream)));
        co_return s.credentials;
    } catch (const std::exception& e) {
        error += std::string(e.what()) + "; ";
    }
    co_return std::nullopt;
}

}  // namespace

TEST_CASE("interop: the public_key layer with ssh-keygen keys and files" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    for (std::string type : {"ed25519", "ecdsa", "rsa"}) {
        CAPTURE(type);
        test::TempDir dir;
        std::string host_pub = keygen(dir, "host", type, "host");
        std::string user_pub = keygen(dir, "user", type, "user@" + type);
        test::write_file(dir / "authorized_keys", "from=\"127.0.0.1\",no-pty " + user_pub + "\n", 0600);
        test::write_file(dir / "known_hosts", "server.example " + host_pub + "\n", 0600);
        std::string out;
        REQUIRE(test::shell("ssh-keygen -H -f " + (dir / "known_hosts").string(), &out) == 0);

        auto server = public_key(PublicKeyServerOptions{
            .host_key = dir / "host", .host_key_passphrase = std::nullopt, .authorized_keys = dir / "authorized_keys"});
        auto client = client::public_key({.identity = dir / "user", .passphrase = std::nullopt,
                                          .known_hosts = dir / "known_hosts", .host_name = "server.example"});
        Outcome o = test::run([&](asio::any_io_executor ex) -> asio::awaitable<Outcome> {
            PipeOptions options;
            options.client.protection.channel_id = Bytes{7, 7, 7, 7};
            options.server.protection.channel_id = Bytes{7, 7, 7, 7};
            auto [c, s] = make_pipe(ex, options);
            Outcome r;
            auto [sc, cc] = co_await (run_side(server, std::move(s), r.error) && run_side(client, std::move(c), r.error));
            r.server = std::move(sc);
            r.client = std::move(cc);
            co_return r;
        });
        REQUIRE_MESSAGE(o.server, o.error);
        REQUIRE_MESSAGE(o.client, o.error);
        CHECK(o.server->key_fingerprint == key_of(user_pub).fingerprint());
        CHECK(o.server->key_comment == "user@" + type);
        CHECK(o.client->key_fingerprint == key_of(host_pub).fingerprint());
        CHECK(o.client->host_name == std::string("server.example"));
    }
}
