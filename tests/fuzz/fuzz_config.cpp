// Fuzzes the config readers: parse_duration, parse_endpoint (every role),
// and whole gate/tunnel files through toml++ and the TableReader. The only
// exceptions allowed out are the documented ones (std::invalid_argument,
// ConfigError); anything else, or a crash, is a finding.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>

#include "config/config.hpp"
#include "config/values.hpp"

using namespace authchain::config;

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
    for (auto command : {TunnelCommand::tunnel, TunnelCommand::probe}) {
        try {
            (void)parse_tunnel_config(text, file, command);
        } catch (const ConfigError&) {
        }
    }
    return 0;
}
