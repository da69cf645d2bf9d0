// Passphrases: asked for when a key is decrypted, wiped after; a source
// kept, not the secret, so a reload can ask again.
#include <authchain/auth/openssh/passphrase.hpp>
#include <authchain/auth/public_key.hpp>
#include "tests/support/run.hpp"

#include <doctest/doctest.h>

#include <functional>

using namespace authchain;
using namespace authchain::openssh;

namespace {

std::string text_of(const std::optional<Passphrase::Secret>& s) {
    REQUIRE(s);
    return std::string(s->begin(), s->end());
}

}  // namespace

TEST_CASE("passphrase: the option fields take what the config assigns") {
    PublicKeyServerOptions server;
    CHECK_FALSE(server.host_key_passphrase);
    CHECK_FALSE(server.host_key_passphrase.get());
    std::string from_toml = "from a file";
    server.host_key_passphrase = from_toml;
    CHECK(text_of(server.host_key_passphrase.get()) == "from a file");
    server.host_key_passphrase = std::optional<std::string>("optional");
    CHECK(text_of(server.host_key_passphrase.get()) == "optional");
    server.host_key_passphrase = std::optional<std::string>();
    CHECK_FALSE(server.host_key_passphrase);
    client::PublicKeyClientOptions c{.identity = "id", .passphrase = "literal"};
    CHECK(text_of(c.passphrase.get()) == "literal");
    c.passphrase = std::nullopt;
    CHECK_FALSE(c.passphrase);
}

TEST_CASE("passphrase: wipe overwrites the string's buffer; copies share one secret") {
    std::string w(100, 's');  // on the heap
    const char* buffer = w.data();
    wipe(w);
    CHECK(w.empty());
    REQUIRE(w.data() == buffer);  // the same buffer, still owned by w
    CHECK(std::string_view(buffer, 100) == std::string(100, '\0'));
    Passphrase p(std::string(40, 'p'));
    Passphrase copy = p;
    CHECK(text_of(copy.get()) == std::string(40, 'p'));
    CHECK(text_of(p.get()) == std::string(40, 'p'));
}

TEST_CASE("passphrase: from_file reads at each use, checks the mode and the size") {
    test::TempDir dir;
    auto file = dir / "pass";
    test::write_file(file, "first\n", 0600);
    Passphrase p = Passphrase::from_file(file);
    CHECK(p);
    CHECK(text_of(p.get()) == "first");
    test::write_file(file, "second\r\n", 0600);
    CHECK(text_of(p.get()) == "second");
    test::write_file(file, "readable", 0644);
    CHECK_THROWS_WITH(p.get(), doctest::Contains("Permissions 0644"));
    test::write_file(file, std::string(max_passphrase_file + 1, 'x'), 0600);
    const std::string too_large = "passphrase file '" + file.string() + "' is larger than 1024 bytes";
    CHECK_THROWS_WITH(p.get(), too_large.c_str());
    CHECK_THROWS_AS(Passphrase::from_file(dir / "missing").get(), std::runtime_error);
}

TEST_CASE("passphrase: the server asks at each load, the client once") {
    test::TempDir dir;
    PrivateKey key = PrivateKey::generate_ed25519();
    auto host_key = dir / "host_key", authorized_keys = dir / "authorized_keys";
    test::write_file(host_key, key.to_openssh("host", "pw"), 0600);
    test::write_file(authorized_keys, key.public_key().to_line("k") + "\n", 0600);
    int asked = 0;
    auto source = Passphrase::from_source([&]() -> std::optional<Passphrase::Secret> {
        ++asked;
        return Passphrase::Secret{'p', 'w'};
    });
    PublicKeyFiles files({host_key, source, authorized_keys});
    CHECK(asked == 1);
    CHECK(files.current()->host_public == key.public_key());
    files.reload();  // SIGHUP: the host key is decrypted again
    CHECK(asked == 2);

    CHECK(load_private_key(host_key, source).public_key() == key.public_key());
    CHECK(asked == 3);
    CHECK_THROWS_WITH(load_private_key(host_key, {}), doctest::Contains("passphrase required"));
    CHECK_THROWS_WITH(load_private_key(host_key, "wrong"), doctest::Contains("wrong passphrase"));

    auto known_hosts = dir / "known_hosts";
    test::write_file(known_hosts, "", 0600);
    client::PublicKeyClientOptions options{.identity = host_key, .passphrase = source, .known_hosts = known_hosts,
                                           .host_name = "h"};
    auto layer = client::public_key(options);
    CHECK(asked == 4);
}
