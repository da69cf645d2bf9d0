// authchain keygen --psk PATH [--id ID]: a fresh pre-shared key file.
#include <ctime>
#include <iostream>

#include <authchain/auth/psk.hpp>
#include "tools/commands.hpp"

namespace authchain::tools {

namespace {

// Today's date (UTC) as YYYYMMDD: a key id that sorts by age during rotations.
std::string today_id() {
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    ::gmtime_r(&now, &utc);
    char text[16] = {};
    std::strftime(text, sizeof text, "%Y%m%d", &utc);
    return text;
}

}  // namespace

int keygen_psk(const std::string& path, const std::string& id, bool overwrite) {
    std::string key_id = id.empty() ? today_id() : id;
    write_psk_key_file(path, key_id, overwrite);
    std::cout << "Your pre-shared key \"" << key_id << "\" has been saved in " << path << " (mode 0600).\n"
              << "Copy it to the other side over a secure path; anyone who reads it can authenticate as either side.\n";
    return 0;
}

}  // namespace authchain::tools
