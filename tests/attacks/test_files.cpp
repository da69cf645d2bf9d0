// Files an attacker on the same machine could plant or open up (issue 14
// findings 9 and 10, and the file modes that held): each refused when a
// gate starts, and on reload a running gate keeps its old files, while the
// legitimate client keeps getting through the running gate.
#include <sys/stat.h>

#include "tests/attacks/attack_gate.hpp"

using namespace attacks;

namespace {

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

void mkdir_mode(const std::filesystem::path& p, mode_t mode) {
    std::filesystem::create_directories(p);
    REQUIRE(::chmod(p.c_str(), mode) == 0);
}

}  // namespace

TEST_CASE("attacks: planted and opened-up files are refused at start (findings 9, 10)" *
          doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    const auto dir = g.s.dir.path();
    const std::string base = read_file(g.config()), ak_line = "authorized_keys = \"authorized_keys\"",
                      hk_line = "host_key = \"host\"", audit_line = "audit_log = \"gate-audit.log\"";
    const std::string ak = read_file(dir / "authorized_keys");
    write_file(dir / "victim", "precious\n", 0600);

    struct Case {
        std::string attack, config, message;
    };
    std::vector<Case> cases;
    write_file(dir / "ak-0666", ak, 0666);
    cases.push_back({"authorized_keys writable by others (0666)", replaced(base, ak_line, "authorized_keys = \"ak-0666\""), "ak-0666"});
    write_file(dir / "host-0644", read_file(dir / "host"), 0644);
    cases.push_back({"host key readable by others (0644)", replaced(base, hk_line, "host_key = \"host-0644\""), "host-0644"});
    mkdir_mode(dir / "sticky", 01777);
    write_file(dir / "sticky" / "ak", ak, 0600);
    cases.push_back({"authorized_keys in a sticky world-writable directory (1777)",
                     replaced(base, ak_line, "authorized_keys = \"sticky/ak\""), "sticky"});
    mkdir_mode(dir / "open", 0777);
    mkdir_mode(dir / "open" / "private", 0700);
    write_file(dir / "open" / "private" / "ak", ak, 0600);
    cases.push_back({"authorized_keys under a world-writable grandparent (0777/0700/file)",
                     replaced(base, ak_line, "authorized_keys = \"open/private/ak\""), "open"});
    mkdir_mode(dir / "open2", 0777);
    write_file(dir / "open2" / "ak", ak, 0600);
    std::filesystem::create_symlink(dir / "open2" / "ak", dir / "ak-link");
    cases.push_back({"authorized_keys a symlink into a world-writable directory",
                     replaced(base, ak_line, "authorized_keys = \"ak-link\""), "ak-link"});
    std::filesystem::create_symlink(dir / "victim", dir / "audit-link");
    cases.push_back({"audit_log a symlink planted to another file",
                     replaced(base, audit_line, "audit_log = \"audit-link\""), "audit-link"});
    mkdir_mode(dir / "pub", 0777);
    cases.push_back({"audit_log in a world-writable directory (0777)",
                     replaced(base, audit_line, "audit_log = \"pub/audit.log\""), "pub"});

    for (std::size_t i = 0; i < cases.size(); ++i) {
        const auto& c = cases[i];
        auto config = dir / ("bad-" + std::to_string(i) + ".toml");
        write_file(config, c.config);
        std::string out;
        int rc = shell("timeout 10 " + g.s.bin + " gate --config " + q(config), &out);
        bool legit = g.legit_ping();  // the running gate is not disturbed
        std::string first_line = trim(out.substr(0, out.find('\n')));
        bool ok = rc == 2 && out.find(c.message) != std::string::npos && legit;
        CHECK_MESSAGE(ok, c.attack << ": exit " << rc << ": " << out);
        record("file: " + c.attack, "the gate refuses to start (exit 2), naming the file; nothing written through it",
               "exit " + std::to_string(rc) + ": " + first_line.substr(0, 140) + "; legit client " +
                   (legit ? "ok" : "FAILED"),
               ok);
    }
    bool victim_ok = read_file(dir / "victim") == "precious\n";
    CHECK(victim_ok);
    long reached = g.attacker_backend_connections();
    CHECK(reached == 0);
    record("file: the symlinked audit_log's target after the attempts", "unchanged",
           victim_ok ? "unchanged" : "WRITTEN TO", victim_ok);
}

TEST_CASE("attacks: authorized_keys opened up and a key added, then SIGHUP" * doctest::skip(skip_without_redis())) {
    require_redis();
    AttackGate g;
    const auto ak = g.s.dir / "authorized_keys";
    write_file(ak, read_file(ak) + trim(read_file(g.s.dir / "stranger.pub")) + "\n", 0666);
    g.gate->signal(SIGHUP);
    std::string out;
    for (int i = 0; i < 250; ++i) {  // bounded: until the gate has logged the reload
        out = g.gate_output();
        if (out.find("reload") != std::string::npos) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    auto t = g.tunnel_v6("stranger", "stranger");
    std::string reply = cli(t.port, "ping");
    bool legit = g.legit_ping();
    long reached = g.attacker_backend_connections();
    bool ok = reply != "PONG" && g.tunnel_verdict("stranger") == "denied (denied)" && legit && reached == 0;
    CHECK(ok);
    std::string reload_line;
    for (std::istringstream in(out); std::getline(in, reload_line);)
        if (reload_line.find("reload") != std::string::npos) break;
    record("file: authorized_keys made writable by others (0666) with the attacker's key added, SIGHUP (IPv6)",
           "reload refused, the old authorized_keys stays: the added key is denied; legit client gets in",
           "gate: " + reload_line.substr(0, 120) + "; attacker's tunnel: " + g.tunnel_verdict("stranger") +
               "; backend +" + std::to_string(reached) + ", legit client " + (legit ? "ok" : "FAILED"),
           ok);
}
