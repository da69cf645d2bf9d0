#include <authchain/auth/openssh/text_file.hpp>

#include <sys/stat.h>

#include <cerrno>
#include <system_error>
#include <mutex>
#include <stdexcept>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/whole_file.hpp>

namespace authchain::openssh {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what) {
    throw std::runtime_error(std::string(what) + " " + path.string() + ": " + std::generic_category().message(errno));
}

std::mutex& append_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

std::string read_trusted_file(const std::filesystem::path& path, std::size_t max_size) {
    // The descriptor checked is the one read: no check-then-open race.
    FileDescriptor file = open_checked(path, false);
    std::string out;
    switch (read_fd_bounded(file.get(), max_size, out)) {
        case ReadStatus::ok:
            return out;
        case ReadStatus::cannot_open:
            fail(path, "cannot open");
        case ReadStatus::cannot_read:
            fail(path, "cannot read");
        case ReadStatus::too_large:
            break;
    }
    throw std::runtime_error(path.string() + " is larger than " + std::to_string(max_size) + " bytes");
}

void append_atomically(const std::filesystem::path& path, std::string_view text) {
    std::lock_guard lock(append_mutex());
    std::string content;
    mode_t mode = 0600;
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
        content = read_trusted_file(path);
        mode = st.st_mode & 07777;
    } else if (errno != ENOENT) {
        fail(path, "cannot stat");
    } else {
        check_directory_of(path);
    }
    if (!content.empty() && content.back() != '\n') content += '\n';
    content += text;
    write_file_atomically(path, content, mode);
}

}  // namespace authchain::openssh
