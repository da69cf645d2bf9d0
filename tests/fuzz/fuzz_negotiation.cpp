// Fuzzes the secure channel negotiation parsers (C1, S1, frames) and the
// server's suite choice. Byte 0 is the client's first offered id for S1.
#include <cstdint>
#include <cstdlib>

#include <authchain/compose/error.hpp>
#include <authchain/transport/detail/noise/suite.hpp>
#include <authchain/transport/detail/secure_channel/negotiation.hpp>

using namespace authchain;
using namespace authchain::channel;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

const std::vector<noise::Suite>& all_suites() {
    static const std::vector<noise::Suite> suites = [] {
        std::vector<noise::Suite> out;
        for (auto c : {noise::Cipher::AESGCM, noise::Cipher::ChaChaPoly})
            for (auto h : {noise::Hash::SHA256, noise::Hash::SHA512, noise::Hash::BLAKE2b}) out.push_back({c, h});
        return out;
    }();
    return suites;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::uint8_t first = data[0];
    ByteView input(data + 1, size - 1);
    try {
        if (auto hello = parse_client_hello(input)) {
            check(hello->size <= input.size());
            check(!hello->value.ids.empty() && hello->value.ids.size() <= max_offered_suites);
            check(!hello->value.message.empty());
            check(hello->size == hello->value.offer.size() + 2 + hello->value.message.size());
            const auto chosen = choose_suite(all_suites(), hello->value.ids);
            if (chosen != no_common_suite) check(suite_from_id(chosen).has_value());
            (void)make_prologue(hello->value.offer, encode_choice(chosen));
        }
    } catch (const AuthenticationError& e) {
        check(e.reason() == DenyReason::protocol_error);
    }
    try {
        if (auto hello = parse_server_hello(input, first)) {
            check(hello->size <= input.size());
            check(hello->value.message.has_value() == (hello->value.chosen == first && first != no_common_suite));
            if (auto suite = suite_from_id(hello->value.chosen)) check(suite_id(*suite) == hello->value.chosen);
        }
    } catch (const AuthenticationError& e) {
        check(e.reason() == DenyReason::protocol_error);
    }
    try {
        if (auto framed = parse_frame(input)) {
            check(framed->size == 2 + framed->value.size() && framed->size <= input.size());
            check(frame(framed->value) == Bytes(input.begin(), input.begin() + static_cast<std::ptrdiff_t>(framed->size)));
        }
    } catch (const AuthenticationError& e) {
        check(e.reason() == DenyReason::protocol_error);
    }
    return 0;
}
