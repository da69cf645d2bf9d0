// What the CPU offers, read from /proc/cpuinfo (the kernel's view, not the
// library's own CPUID probe that the test checks against).
#pragma once

#include <fstream>
#include <set>
#include <sstream>
#include <string>

namespace authchain::test {

// The words of the first "flags" line of /proc/cpuinfo (empty elsewhere).
inline std::set<std::string> cpu_flags() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("flags", 0) != 0) continue;
        std::istringstream words(line.substr(line.find(':') + 1));
        std::set<std::string> flags;
        for (std::string w; words >> w;) flags.insert(w);
        return flags;
    }
    return {};
}

// What ipsec-mb's VAES AES-GCM needs (aes_gcm_ipsec_mb.hpp).
inline bool cpu_has_avx512_vaes() {
    const std::set<std::string> flags = cpu_flags();
    for (const char* f : {"avx512f", "avx512dq", "avx512cd", "avx512bw", "avx512vl", "vaes", "vpclmulqdq"})
        if (flags.count(f) == 0) return false;
    return true;
}

}  // namespace authchain::test
