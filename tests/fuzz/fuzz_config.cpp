// Fuzzes the config readers: parse_duration, parse_endpoint (every role),
// and whole gate/tunnel files through toml++ and the TableReader. The only
// exceptions allowed out are the documented ones (std::invalid_argument,
// ConfigError); anything else, or a crash, is a finding.
//
// The fuzz build links only authchain_dep, so the tools sources this needs
// are compiled into the target here (toml++ header-only).
//
// toml++ 3.3 asserts on some malformed table headers ("[:", "[[[1]]]")
// instead of reporting them: upstream bug, fixed by marzer/tomlplusplus#301.
// The command links Debian's release build of toml++, where that assert is
// compiled out and the input gets a normal parse_error (checked by hand:
// "syntax error: Error while parsing key"). Do the same here, so the fuzzer
// looks for our bugs rather than stopping on that one.
#define TOML_ASSERT(expr) static_cast<void>(0)
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "tools/config.cpp"
#include "tools/crypto_layers.cpp"
#include "tools/layers.cpp"
#include "tools/table_reader.cpp"
#include "tools/toml_guard.cpp"
#include "tools/values.cpp"

using namespace authchain::tools;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    try {
        (void)parse_duration(text);
    } catch (const std::invalid_argument&) {
    }
    for (auto role : {EndpointRole::listen, EndpointRole::connect, EndpointRole::backend}) {
        try {
            (void)parse_endpoint(text, role).to_string();
        } catch (const std::invalid_argument&) {
        }
    }
    // A directory that does not exist: relative key files are never found.
    const std::filesystem::path file = "/nonexistent-authchain-fuzz/config.toml";
    try {
        (void)parse_gate_config(text, file);
    } catch (const ConfigError&) {
    }
    try {
        (void)parse_tunnel_config(text, file);
    } catch (const ConfigError&) {
    }
    return 0;
}
