// The pieces authorized_keys, known_hosts and fingerprint_line share.
#include <authchain/auth/openssh/key_lines.hpp>
#include <authchain/compose/text.hpp>

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace authchain;
using namespace authchain::openssh;

TEST_CASE("options_length: the options end at the first blank outside quotes") {
    CHECK(options_length("restrict ssh-ed25519 AAAA") == 8u);
    CHECK(options_length("from=\"a b\",pty\tkey") == 14u);
    CHECK(options_length("command=\"echo \\\"x y\\\"\" key") == 22u);
    CHECK(options_length("no-blank") == 8u);
    CHECK(options_length("") == 0u);
    CHECK_FALSE(options_length("from=\"open quote key"));
}

TEST_CASE("lines_of splits at newlines; a final newline starts no line") {
    CHECK(lines_of("").empty());
    CHECK(lines_of("a\nb") == std::vector<std::string_view>{"a", "b"});
    CHECK(lines_of("a\n\nb\n") == std::vector<std::string_view>{"a", "", "b"});
}

TEST_CASE("skip_blanks and take_word split on spaces and tabs") {
    CHECK(skip_blanks(" \t x ") == "x ");
    std::string_view s = "type \t b64  comment";
    CHECK(take_word(s) == "type");
    CHECK(take_word(s) == "b64");
    CHECK(s == "comment");
}

TEST_CASE("join puts the separator between elements, not around them") {
    CHECK(join(std::vector<std::string>{}, ", ").empty());
    CHECK(join(std::vector<std::string>{"a"}, ", ") == "a");
    CHECK(join(std::vector<std::string>{"a", "b", "c"}, ", ") == "a, b, c");
    CHECK(join(std::vector<std::string_view>{"x", "y"}, " | ") == "x | y");
    CHECK(join(std::vector<const char*>{"1", "2"}, "\n") == "1\n2");
    struct Kind {
        std::string name;
    };
    const std::vector<Kind> kinds{{"ip_filter"}, {"public_key"}};
    CHECK(join(kinds, ", ", &Kind::name) == "ip_filter, public_key");
    CHECK(join(std::vector<std::string>{"a", "", "b"}, ",") == "a,,b");
}

TEST_CASE("ASCII case folding ignores the locale and non-letters") {
    CHECK(ascii_lowered("Host.EXAMPLE-1") == "host.example-1");
    CHECK(ascii_lower('\xC4') == '\xC4');
    CHECK(starts_with_nocase("No-PTY", "no-pty"));
    CHECK(starts_with_nocase("RESTRICT,pty", "restrict"));
    CHECK_FALSE(starts_with_nocase("res", "restrict"));
    CHECK_FALSE(starts_with_nocase("from=", "fron"));
}
