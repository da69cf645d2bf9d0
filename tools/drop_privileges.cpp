// drop_privileges (declared in tools/service.hpp): root to the configured
// `user`, checked to be irreversible.
#include "tools/service.hpp"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <stdexcept>
#include <vector>

namespace authchain::tools {

void drop_privileges(const std::string& user) {
    struct passwd pw{};
    struct passwd* found = nullptr;
    std::vector<char> buf(16384);
    int rc = getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &found);
    if (rc != 0 || !found) throw std::runtime_error("unknown user \"" + user + "\"");
    if (getuid() == pw.pw_uid && geteuid() == pw.pw_uid && getgid() == pw.pw_gid) return;
    auto fail = [&](const char* what) {
        throw std::runtime_error(fmt::format("cannot become user \"{}\": {}: {}", user, what, std::strerror(errno)));
    };
    if (initgroups(pw.pw_name, pw.pw_gid) != 0) fail("initgroups");
    if (setgid(pw.pw_gid) != 0) fail("setgid");
    if (setuid(pw.pw_uid) != 0) fail("setuid");
    if (pw.pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
        throw std::runtime_error("privileges could be regained after dropping to \"" + user + "\"");
}

}  // namespace authchain::tools
