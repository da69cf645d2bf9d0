// A statistical check that an unknown user costs what a known one does
// (the dummy hash). Not a wall-clock bound: it compares medians of
// interleaved runs and fails only on a clear difference (3x), after
// checking that the measurement can see a hash at all (a path with no hash
// is clearly cheaper), so it would catch a layer that skips the dummy.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/auth/password_fixture.hpp"

using namespace authchain;
using namespace authchain::pw_test;

namespace {

// m=2 MiB: milliseconds per hash, far above the pipe's own cost (~0.1 ms).
constexpr userdb::Argon2Params measurable{2048, 1, 1};

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

template <class F>
double seconds(F f) {
    auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("password timing: an unknown user costs what a wrong password for a known user costs") {
    test::TempDir dir;
    test::write_file(dir / "users", "alice:" + userdb::hash_password("correct horse", measurable) + "\n", 0600);
    PasswordServerOptions options;
    options.users = dir / "users";
    options.minimum = measurable;
    Authenticator server = password(options);
    Bytes relayed = p1_bytes(channel_b, "alice", "correct horse");  // refused before hashing

    std::vector<double> known, unknown, no_hash;
    for (int i = 0; i < 15; ++i) {
        known.push_back(seconds([&] { CHECK(handshake(server, login_client("alice", "wrong")).server.reason() == DenyReason::denied); }));
        unknown.push_back(seconds([&] { CHECK(handshake(server, login_client("mallory", "wrong")).server.reason() == DenyReason::denied); }));
        no_hash.push_back(seconds([&] { CHECK(handshake(server, scripted_login(relayed)).server.reason() == DenyReason::protocol_error); }));
    }
    double k = median(known), u = median(unknown), n = median(no_hash);
    INFO("medians: known " << k * 1e3 << " ms, unknown " << u * 1e3 << " ms, no hash " << n * 1e3 << " ms");
    CHECK(k > 3 * n);  // the measurement sees a hash
    CHECK(u > 3 * n);  // ... and the unknown user pays one
    CHECK(u < 3 * k);
    CHECK(k < 3 * u);
}
