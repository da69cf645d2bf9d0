// The authchain binary: exit codes, --version, keygen and fingerprint
// against ssh-keygen.
#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "tests/support/prerequisites.hpp"
#include "tests/support/run.hpp"
#include "tests/tools/cli_support.hpp"

namespace {

using namespace authchain::test::cli_support;

// The cases that compare with ssh-keygen fail without it, unless
// AUTHCHAIN_TEST_SKIP_MISSING=1 (then they are skipped and counted).
using authchain::test::require_ssh_keygen;
using authchain::test::skip_without_ssh_keygen;

// The first two fields ("type base64") of a public key line.
std::string key_part(const std::string& line) {
    auto first = line.find(' ');
    auto second = line.find_first_of(" \n", first + 1);
    return line.substr(0, second);
}

}  // namespace

TEST_CASE("--version and --help exit 0") {
    auto v = cli("--version");
    CHECK(v.status == 0);
    CHECK(contains(v.output, "authchain 0."));
    // Which AES-GCM code this process uses (transport/secure_channel.hpp),
    // and the environment's way back to libcrypto.
    CHECK(contains(v.output, "\nAES-GCM of long records: "));
    std::string pinned_output;
    CHECK(authchain::test::shell("AUTHCHAIN_AES_GCM=libcrypto " + binary() + " --version </dev/null", &pinned_output) == 0);
    CHECK(contains(pinned_output, "AES-GCM of long records: libcrypto (ipsec-mb not used: AUTHCHAIN_AES_GCM=libcrypto)"));
    auto h = cli("gate --help");
    CHECK(h.status == 0);
    CHECK(contains(h.output, "--config"));
}

TEST_CASE("usage errors exit 2") {
    CHECK(cli("").status == 2);
    CHECK(cli("frobnicate").status == 2);
    CHECK(cli("gate").status == 2);
    // Refused for its type (the path is writable, so only the type can be the reason).
    authchain::test::TempDir dir;
    auto dsa = cli("keygen -t dsa -f " + arg(dir / "x"));
    CHECK(dsa.status == 2);
    CHECK(contains(dsa.output, "dsa not in {ed25519,ecdsa,rsa}"));
    CHECK_FALSE(std::filesystem::exists(dir / "x"));
}

TEST_CASE("gate --config with a bad file exits 2 naming file:line:key") {
    authchain::test::TempDir dir;
    authchain::test::write_file(dir / "bad.toml", "listen = \":7000\"\nbackend = \"h:1\"\nbogus_key = 1\n");
    auto r = cli("gate --config " + arg(dir / "bad.toml"));
    CHECK(r.status == 2);
    CHECK(contains(r.output, "bad.toml:3: bogus_key: unknown key"));

    auto missing = cli("gate --config " + arg(dir / "none.toml"));
    CHECK(missing.status == 2);
    CHECK(contains(missing.output, "none.toml: config file not found"));

    authchain::test::write_file(dir / "t.toml", "server = \"127.0.0.1:1\"\n");
    auto no_listen = cli("tunnel --config " + arg(dir / "t.toml"));
    CHECK(no_listen.status == 2);
    CHECK(contains(no_listen.output, "t.toml:1: listen: missing required key"));
}

TEST_CASE("gate --check: a chain that authenticates nobody is loaded with a loud warning") {
    authchain::test::TempDir dir;
    authchain::test::write_file(dir / "open.toml",
                     "listen = \":7000\"\nbackend = \"127.0.0.1:8000\"\n[[layer]]\nkind = \"ip_filter\"\n"
                     "allow = [\"127.0.0.1\"]\n");
    auto r = cli("gate --check --config " + arg(dir / "open.toml"));
    CHECK(r.status == 0);
    CHECK(contains(r.output, "WARNING"));
    CHECK(contains(r.output, "no layer authenticates"));
    CHECK(contains(r.output, "127.0.0.1:7000 -> 127.0.0.1:8000 via ip_filter"));
}

TEST_CASE("gate --check prints each skipped authorized_keys line as file:line: why") {
    authchain::test::TempDir dir;
    REQUIRE(cli("keygen -f " + arg(dir / "host") + " -C host").status == 0);
    REQUIRE(cli("keygen -f " + arg(dir / "client") + " -C client").status == 0);
    std::string good = authchain::test::read_file(dir / "client.pub");
    // Line 2: the key type is misspelled, so the line is skipped.
    authchain::test::write_file(dir / "authorized_keys", good + "ssh-ed2559 AAAAC3NzaC1lZDI1NTE5 typo\n", 0600);
    authchain::test::write_file(dir / "gate.toml",
                     "listen = \"127.0.0.1:7000\"\nbackend = \"127.0.0.1:8000\"\n"
                     "[[layer]]\nkind = \"secure_channel\"\n"
                     "[[layer]]\nkind = \"public_key\"\nhost_key = \"host\"\nauthorized_keys = \"authorized_keys\"\n");
    auto r = cli("gate --check --config " + arg(dir / "gate.toml"));
    CHECK(r.status == 0);
    CHECK(contains(r.output, (dir / "authorized_keys").string() + ":2: no key type found"));
    CHECK(contains(r.output, "WARNING"));
}

TEST_CASE("keygen writes a key pair that ssh-keygen reads; fingerprint matches ssh-keygen -l" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    authchain::test::TempDir dir;
    for (std::string type : {"ed25519", "ecdsa", "rsa"}) {
        CAPTURE(type);
        auto key = dir / ("id_" + type);
        auto r = cli("keygen -t " + type + " -f " + arg(key) + " -C 'me@test'");
        REQUIRE(r.status == 0);
        CHECK((std::filesystem::status(key).permissions() & std::filesystem::perms::all) ==
              (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
        std::string derived;
        REQUIRE(authchain::test::shell("ssh-keygen -y -f " + arg(key), &derived) == 0);
        CHECK(key_part(derived) == key_part(authchain::test::read_file(key.string() + ".pub")));

        std::string theirs;
        REQUIRE(authchain::test::shell("ssh-keygen -l -f " + arg(key.string() + ".pub"), &theirs) == 0);
        auto ours = cli("fingerprint " + arg(key.string() + ".pub"));
        CHECK(ours.status == 0);
        CHECK(ours.output == theirs);
        CHECK(contains(ours.output, "me@test"));
        CHECK(contains(r.output, theirs.substr(theirs.find(' ') + 1, 50)));
    }
    // Refuses to overwrite: says so, and the key is unchanged.
    std::string before = authchain::test::read_file(dir / "id_ed25519");
    auto again = cli("keygen -f " + arg(dir / "id_ed25519") + " -C x");
    CHECK(again.status == 2);
    CHECK(contains(again.output, "already exists; not overwriting it"));
    CHECK(authchain::test::read_file(dir / "id_ed25519") == before);
}

TEST_CASE("keygen -N: ssh-keygen opens the key with the passphrase only" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    authchain::test::TempDir dir;
    auto key = dir / "id";
    REQUIRE(cli("keygen -f " + arg(key) + " -N 'secret words' -C c").status == 0);
    std::string out;
    CHECK(authchain::test::shell("ssh-keygen -y -P 'secret words' -f " + arg(key), &out) == 0);
    CHECK(key_part(out) == key_part(authchain::test::read_file(key.string() + ".pub")));
    CHECK(authchain::test::shell("ssh-keygen -y -P 'wrong' -f " + arg(key)) != 0);
}

TEST_CASE("fingerprint of keys ssh-keygen made matches ssh-keygen -l" *
          doctest::skip(skip_without_ssh_keygen())) {
    require_ssh_keygen();
    authchain::test::TempDir dir;
    for (std::string type : {"ed25519", "ecdsa", "rsa"}) {
        CAPTURE(type);
        auto key = dir / ("k_" + type);
        REQUIRE(authchain::test::shell("ssh-keygen -q -t " + type + " -N '' -C 'made by ssh' -f " + arg(key)) == 0);
        for (auto file : {key.string(), key.string() + ".pub"}) {
            std::string theirs;
            REQUIRE(authchain::test::shell("ssh-keygen -l -f '" + file + "'", &theirs) == 0);
            auto ours = cli("fingerprint '" + file + "'");
            CHECK(ours.status == 0);
            CHECK(ours.output == theirs);
        }
    }
    auto missing = cli("fingerprint " + arg(dir / "nothing"));
    CHECK(missing.status == 2);
}

namespace {
// A gate config with one open layer and `extra` top-level keys, at `mode`.
std::filesystem::path gate_config(const std::filesystem::path& dir, const std::string& extra, unsigned mode = 0600) {
    auto file = dir / "gate.toml";
    authchain::test::write_file(file,
                                "listen = \"127.0.0.1:7000\"\nbackend = \"127.0.0.1:8000\"\n" + extra +
                                    "[[layer]]\nkind = \"ip_filter\"\nallow = [\"127.0.0.1\"]\n",
                                mode);
    return file;
}
}  // namespace

TEST_CASE("gate --check prints every setting that matters: PROXY v2, audit log, user") {
    authchain::test::TempDir dir;
    auto file = gate_config(dir.path(), "proxy_protocol = \"v2\"\naudit_log = \"audit.jsonl\"\nuser = \"nobody\"\n");
    auto r = cli("gate --check --config " + arg(file));
    CHECK(r.status == 0);
    CHECK(contains(r.output, "127.0.0.1:7000 -> 127.0.0.1:8000 via ip_filter"));
    CHECK(contains(r.output, "proxy_protocol: v2"));
    CHECK(contains(r.output, "audit_log: "));
    CHECK(contains(r.output, "audit.jsonl"));
    CHECK(contains(r.output, "user: nobody"));
    CHECK(contains(r.output, "multiplex: off"));

    auto plain = cli("gate --check --config " + arg(gate_config(dir.path(), "")));
    CHECK(plain.status == 0);
    CHECK(contains(plain.output, "proxy_protocol: off"));
    CHECK(contains(plain.output, "audit_log: none"));
    CHECK(contains(plain.output, "user: not set"));

    auto multiplexed =
        cli("gate --check --config " + arg(gate_config(dir.path(), "multiplex = true\nmultiplex_max_streams = 64\n")));
    CHECK(multiplexed.status == 0);
    CHECK(contains(multiplexed.output, "multiplex: on (max_connections counts channels; up to 64 streams"));
}

TEST_CASE("gate --check refuses a user that does not exist") {
    authchain::test::TempDir dir;
    auto r = cli("gate --check --config " + arg(gate_config(dir.path(), "user = \"no-such-user-authchain\"\n")));
    CHECK(r.status == 2);
    CHECK(contains(r.output, "no such user \"no-such-user-authchain\""));
    CHECK_FALSE(contains(r.output, ": ok:"));
}

TEST_CASE("gate --check refuses a config file writable by others, warns when writable by its group") {
    authchain::test::TempDir dir;
    auto r = cli("gate --check --config " + arg(gate_config(dir.path(), "", 0602)));
    CHECK(r.status == 2);
    CHECK(contains(r.output, "writable by others"));
    CHECK_FALSE(contains(r.output, ": ok:"));

    auto group = cli("gate --check --config " + arg(gate_config(dir.path(), "", 0620)));
    CHECK(group.status == 0);
    CHECK(contains(group.output, "WARNING"));
    CHECK(contains(group.output, "writable by its group"));
}
