// The audit log: fields of a connection line, one line per entry whatever a
// peer puts in its key comment, file created 0600 and appended to.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "tests/support/run.hpp"
#include "tools/audit_log.hpp"
#include "tools/service.hpp"

using namespace authchain;
using namespace authchain::tools;
using nlohmann::json;

namespace {

std::vector<std::string> lines_of(const std::filesystem::path& p) {
    std::vector<std::string> out;
    std::ifstream in(p);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

}  // namespace

TEST_CASE("audit log: ISO 8601 UTC with milliseconds") {
    std::chrono::system_clock::time_point t{std::chrono::milliseconds(1234)};
    CHECK(iso8601_utc(t) == "1970-01-01T00:00:01.234Z");
    CHECK(iso8601_utc(std::chrono::system_clock::time_point{std::chrono::seconds(1764060000)}) ==
          "2025-11-25T08:40:00.000Z");
}

TEST_CASE("audit log: an accepted connection line has identity, verdict, bytes and durations") {
    Credentials c;
    c.prove("public_key", &Credentials::key_fingerprint, std::string("SHA256:abc"), "key_fingerprint");
    c.prove("public_key", &Credentials::key_comment, std::string("bob@laptop"), "key_comment");
    c.prove("password", &Credentials::user, std::string("bob"), "user");
    ConnectionAudit a;
    a.time = std::chrono::system_clock::time_point{std::chrono::seconds(0)};
    a.peer = {asio::ip::make_address("::1"), 5555};
    a.layers = {"secure_channel", "public_key"};
    a.credentials = &c;
    a.verdict = "accepted";
    a.handshake = std::chrono::milliseconds(12);
    a.close = ConnectionAudit::Close{100, 200, std::chrono::milliseconds(3000), "client"};
    json j = to_json(a);
    CHECK(j["time"] == "1970-01-01T00:00:00.000Z");
    CHECK(j["event"] == "connection");
    CHECK(j["peer"] == "[::1]:5555");
    CHECK(j["layers"] == json::array({"secure_channel", "public_key"}));
    CHECK(j["identity"] == json{{"key_fingerprint", "SHA256:abc"}, {"key_comment", "bob@laptop"}, {"user", "bob"}});
    CHECK(j["verdict"] == "accepted");
    CHECK_FALSE(j.contains("reason"));
    CHECK(j["handshake_ms"] == 12);
    CHECK(j["bytes_in"] == 100);
    CHECK(j["bytes_out"] == 200);
    CHECK(j["duration_ms"] == 3000);
    CHECK(j["closed_by"] == "client");
}

TEST_CASE("audit log: a refused attempt names the coarse reason and keeps the detail local") {
    AuditRecord r;
    r.peer = {asio::ip::make_address("10.1.2.3"), 40000};
    r.layers_passed = {"ip_filter", "secure_channel"};
    r.reason = DenyReason::denied;
    r.detail = "key not in authorized_keys";
    r.duration = std::chrono::milliseconds(7);
    json j = to_json(r);
    CHECK(j["verdict"] == "denied");
    CHECK(j["reason"] == "denied");
    CHECK(j["detail"] == "key not in authorized_keys");
    CHECK(j["peer"] == "10.1.2.3:40000");
    CHECK(j["identity"] == json::object());
    CHECK_FALSE(j.contains("bytes_in"));
}

TEST_CASE("audit log: file created 0600, appended, one line per entry whatever the values hold") {
    test::TempDir dir;
    auto path = dir / "audit.log";
    {
        AuditLog log(path.string());
        CHECK(log.enabled());
        Credentials c;
        // A hostile comment: newline, quote, a fake field, invalid UTF-8.
        c.prove("public_key", &Credentials::key_comment,
                std::string("x\"}\n{\"verdict\":\"accepted\"\xff"), "key_comment");
        ConnectionAudit a;
        a.credentials = &c;
        a.verdict = "denied";
        log.write(to_json(a));
        log.write(event_json("reload", {{"ok", true}}));
    }
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    {
        AuditLog again(path.string());
        again.write(event_json("stop"));
    }
    auto lines = lines_of(path);
    REQUIRE(lines.size() == 3);
    json first = json::parse(lines[0]);
    CHECK(first["verdict"] == "denied");
    CHECK(first["identity"]["key_comment"].get<std::string>().find('\n') != std::string::npos);
    CHECK(json::parse(lines[1])["event"] == "reload");
    CHECK(json::parse(lines[2])["event"] == "stop");
}

TEST_CASE("audit log: no target, no log; an unwritable path is an error") {
    AuditLog none("");
    CHECK_FALSE(none.enabled());
    none.write(event_json("x"));  // a no-op
    CHECK_THROWS_AS(AuditLog("/nonexistent-dir/audit.log"), std::system_error);
}

TEST_CASE("audit log: a symlink planted where the log goes is refused, its target untouched") {
    test::TempDir dir;
    test::write_file(dir / "victim", "precious\n", 0600);
    std::filesystem::create_symlink(dir / "victim", dir / "audit.log");
    CHECK_THROWS_WITH(AuditLog((dir / "audit.log").string()), doctest::Contains("symbolic link"));
    CHECK(test::read_file(dir / "victim") == "precious\n");
    // A dangling one is not followed to create its target either.
    std::filesystem::create_symlink(dir / "created", dir / "dangling.log");
    CHECK_THROWS(AuditLog((dir / "dangling.log").string()));
    CHECK_FALSE(std::filesystem::exists(dir / "created"));
}

TEST_CASE("audit log: a directory writable by group or others is refused, sticky or not") {
    test::TempDir dir;
    std::filesystem::create_directory(dir / "open");
    auto path = (dir / "open" / "audit.log").string();
    for (mode_t mode : {01777, 0777, 0770}) {
        CAPTURE(mode);
        REQUIRE(::chmod((dir / "open").c_str(), mode) == 0);
        CHECK_THROWS_WITH(AuditLog{path}, doctest::Contains("Bad permissions"));
        CHECK_FALSE(std::filesystem::exists(path));
    }
    // The same one level up: a world-writable directory above the log's own.
    REQUIRE(::chmod((dir / "open").c_str(), 0777) == 0);
    std::filesystem::create_directory(dir / "open" / "private");
    REQUIRE(::chmod((dir / "open" / "private").c_str(), 0700) == 0);
    CHECK_THROWS_WITH(AuditLog((dir / "open" / "private" / "audit.log").string()),
                      doctest::Contains("Bad permissions 0777"));
    REQUIRE(::chmod((dir / "open").c_str(), 0700) == 0);
    CHECK_NOTHROW(AuditLog((dir / "open" / "private" / "audit.log").string()));
}

TEST_CASE("audit log: the opened file must be a regular file not writable by others") {
    test::TempDir dir;
    test::write_file(dir / "shared.log", "", 0666);
    REQUIRE(::chmod((dir / "shared.log").c_str(), 0666) == 0);
    CHECK_THROWS_WITH(AuditLog((dir / "shared.log").string()), doctest::Contains("writable by group or others"));
    test::write_file(dir / "linked.log", "", 0600);
    std::filesystem::create_hard_link(dir / "linked.log", dir / "other-name");
    CHECK_THROWS_WITH(AuditLog((dir / "linked.log").string()), doctest::Contains("hard links"));
    REQUIRE(::mkfifo((dir / "fifo.log").c_str(), 0600) == 0);
    CHECK_THROWS(AuditLog((dir / "fifo.log").string()));  // neither hangs nor writes to a pipe
    if (::geteuid() == 0) {
        test::write_file(dir / "theirs.log", "", 0600);
        REQUIRE(::chown((dir / "theirs.log").c_str(), 65534, 65534) == 0);
        CHECK_THROWS_WITH(AuditLog((dir / "theirs.log").string()), doctest::Contains("owned by uid 65534"));
    }
}

TEST_CASE("audit log: a client stream that failed its integrity check is logged as such") {
    Session client;
    ForwardSummary s;
    s.outcome = ForwardOutcome::error;
    s.closed_first = ForwardSide::client;
    s.integrity_failure = ForwardSide::client;
    s.error_text = "a: read: protocol error: bad record";
    json j = to_json(forward_audit(client, s, "gate", "backend"));
    CHECK(j["verdict"] == "error");
    CHECK(j["reason"] == "client integrity failure");
    CHECK(j["closed_by"] == "client");
    s.integrity_failure = ForwardSide::none;
    CHECK(to_json(forward_audit(client, s, "gate", "backend"))["reason"] == "client error");
}
