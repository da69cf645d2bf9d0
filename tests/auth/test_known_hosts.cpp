#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>

#include <authchain/auth/openssh/known_hosts.hpp>
#include <authchain/auth/openssh/text_file.hpp>
#include "tests/auth/two_keys.hpp"
#include "tests/support/run.hpp"

using namespace authchain;
using namespace authchain::openssh;

namespace {

using authchain::test::key_a;
using authchain::test::key_b;

}  // namespace

TEST_CASE("known_hosts: names, lists, wildcards, ports") {
    std::string text = "# comment\n\n"
                       "example.com,192.0.2.7 " + key_a().to_line("c") + "\n" +
                       "*.corp.example,!bad.corp.example " + key_a().to_line() + "\n" +
                       "[alt.example]:2222 " + key_b().to_line() + "\n";
    auto known = parse_known_hosts(text, "kh");
    REQUIRE(known.entries.size() == 3);
    CHECK(known.warnings.empty());

    auto r = lookup_host_key(known, "Example.COM", 22, key_a());
    CHECK(r.status == HostKeyStatus::known);
    CHECK(r.name == "example.com");
    REQUIRE(r.entry);
    CHECK(r.entry->source == "kh:3");
    CHECK(lookup_host_key(known, "192.0.2.7", 0, key_a()).status == HostKeyStatus::known);
    CHECK(lookup_host_key(known, "web.corp.example", 0, key_a()).status == HostKeyStatus::known);
    CHECK(lookup_host_key(known, "bad.corp.example", 0, key_a()).status == HostKeyStatus::unknown);
    CHECK(lookup_host_key(known, "example.com", 2222, key_a()).status == HostKeyStatus::unknown);

    auto alt = lookup_host_key(known, "alt.example", 2222, key_b());
    CHECK(alt.status == HostKeyStatus::known);
    CHECK(alt.name == "[alt.example]:2222");
    CHECK(lookup_host_key(known, "alt.example", 22, key_b()).status == HostKeyStatus::unknown);
    CHECK(known_host_name("::1", 2222) == "[::1]:2222");
    CHECK(known_host_name("Host", 22) == "host");
}

TEST_CASE("known_hosts: another key listed is a change") {
    auto known = parse_known_hosts("example.com " + key_a().to_line() + "\n", "kh");
    auto r = lookup_host_key(known, "example.com", 22, key_b());
    CHECK(r.status == HostKeyStatus::changed);
    REQUIRE(r.entry);
    CHECK(r.entry->key == key_a());
    // Both listed: known.
    known = parse_known_hosts("example.com " + key_a().to_line() + "\nexample.com " + key_b().to_line() + "\n", "kh");
    CHECK(lookup_host_key(known, "example.com", 22, key_b()).status == HostKeyStatus::known);
}

TEST_CASE("known_hosts: @revoked wins over any listing") {
    auto known = parse_known_hosts("example.com " + key_a().to_line() + "\n@revoked * " + key_a().to_line() + "\n", "kh");
    auto r = lookup_host_key(known, "example.com", 22, key_a());
    CHECK(r.status == HostKeyStatus::revoked);
    REQUIRE(r.entry);
    CHECK(r.entry->source == "kh:2");
    // Revoked for every host, whatever the hostnames field says.
    known = parse_known_hosts("@revoked other.example " + key_a().to_line() + "\n", "kh");
    CHECK(lookup_host_key(known, "example.com", 22, key_a()).status == HostKeyStatus::revoked);
    CHECK(lookup_host_key(known, "example.com", 22, key_b()).status == HostKeyStatus::unknown);
}

TEST_CASE("known_hosts: hashed names") {
    std::string line = known_hosts_line("Server.Example", 2222, key_a(), true);
    CHECK(line.starts_with("|1|"));
    CHECK(line.ends_with("\n"));
    CHECK(line.find("server") == std::string::npos);
    auto known = parse_known_hosts(line, "kh");
    REQUIRE(known.entries.size() == 1);
    CHECK(lookup_host_key(known, "server.example", 2222, key_a()).status == HostKeyStatus::known);
    CHECK(lookup_host_key(known, "server.example", 22, key_a()).status == HostKeyStatus::unknown);
    CHECK(lookup_host_key(known, "server.example", 2222, key_b()).status == HostKeyStatus::changed);
    // Two hashes of one name differ (fresh salt) but both match.
    CHECK(known_hosts_line("h", 0, key_a(), true) != known_hosts_line("h", 0, key_a(), true));
    CHECK(known_hosts_line("h", 0, key_a(), false) == "h " + key_a().to_line() + "\n");
}

TEST_CASE("known_hosts: bad lines are skipped with a warning") {
    std::string k = key_a().to_line();
    std::string text = std::string("@cert-authority\n") +         // 1
                       "@frob example.com " + k + "\n" +           // 2
                       "|1|short|abc= " + k + "\n" +               // 3
                       "example.com ssh-ed25519 !!!\n" +           // 4
                       "example.com 1024 35 12345\n" +             // 5 SSH1 RSA
                       "example.com\n" +                           // 6
                       "example.com ssh-ed25519\n" +               // 7
                       std::string(20000, 'a') + "\n";             // 8
    auto known = parse_known_hosts(text, "kh");
    CHECK(known.entries.empty());
    REQUIRE(known.warnings.size() == 8);
    for (int i = 0; i < 8; ++i) CHECK(known.warnings[i].starts_with("kh:" + std::to_string(i + 1) + ": "));
    CHECK(lookup_host_key(known, "example.com", 22, key_a()).status == HostKeyStatus::unknown);
}

TEST_CASE("known_hosts: append_atomically") {
    test::TempDir dir;
    auto file = dir / "known_hosts";
    append_atomically(file, known_hosts_line("a.example", 0, key_a(), false));
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    test::write_file(file, test::read_file(file) + "# no final newline", 0644);
    append_atomically(file, known_hosts_line("b.example", 0, key_b(), true));
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    auto known = parse_known_hosts(read_trusted_file(file), "kh");
    CHECK(known.entries.size() == 2);
    CHECK(lookup_host_key(known, "a.example", 0, key_a()).status == HostKeyStatus::known);
    CHECK(lookup_host_key(known, "b.example", 0, key_b()).status == HostKeyStatus::known);
    // No temp files left behind.
    int files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir.path())) ++files;
    CHECK(files == 1);

    // Refused: a known_hosts others may write, and a directory others may write.
    ::chmod(file.c_str(), 0666);
    CHECK_THROWS_AS(append_atomically(file, known_hosts_line("c.example", 0, key_a(), false)), std::runtime_error);
    CHECK_THROWS(read_trusted_file(file));
    auto open_dir = dir / "open";
    std::filesystem::create_directory(open_dir);
    ::chmod(open_dir.c_str(), 0777);
    CHECK_THROWS_AS(append_atomically(open_dir / "known_hosts", known_hosts_line("c", 0, key_a(), false)),
                    std::runtime_error);
    CHECK_FALSE(std::filesystem::exists(open_dir / "known_hosts"));
}

TEST_CASE("known_hosts: @cert-authority names a CA for its host patterns, never a host key") {
    std::string k = key_a().to_line();
    auto known = parse_known_hosts("@cert-authority *.example,!bad.example " + k + "\n", "kh");
    REQUIRE(known.entries.size() == 1);
    CHECK(known.entries[0].cert_authority);
    CHECK(find_host_authority(known, "gate.example", 22, key_a()) == &known.entries[0]);
    CHECK(find_host_authority(known, "bad.example", 22, key_a()) == nullptr);
    CHECK(find_host_authority(known, "gate.other", 22, key_a()) == nullptr);
    CHECK(find_host_authority(known, "gate.example", 22, key_b()) == nullptr);
    // The CA key presented as a plain host key is unknown, not known.
    CHECK(lookup_host_key(known, "gate.example", 22, key_a()).status == HostKeyStatus::unknown);
    auto revoked = parse_known_hosts("@revoked * " + k + "\n", "kh");
    CHECK(revoked_entry(revoked, key_a()) == &revoked.entries[0]);
    CHECK(revoked_entry(revoked, key_b()) == nullptr);
}
