#include "auth/openssh/text_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <stdexcept>
#include <system_error>

#include "auth/openssh/file_mode.hpp"

namespace authchain::openssh {

namespace {

[[noreturn]] void fail(const std::filesystem::path& path, std::string_view what) {
    throw std::runtime_error(std::string(what) + " " + path.string() + ": " + std::strerror(errno));
}

// Closes a file descriptor on scope exit.
struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

void write_all_fd(int fd, std::string_view data, const std::filesystem::path& path) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail(path, "cannot write");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

// For a file about to be created: StrictModes on its directory.
void check_directory(const std::filesystem::path& path) {
    std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) fail(dir, "cannot stat");
    if ((st.st_mode & 022) != 0 && (st.st_mode & S_ISVTX) == 0)
        throw std::runtime_error("bad permissions on directory " + dir.string() +
                                 ": writable by group or others; chmod go-w it");
}

std::mutex& append_mutex() {
    static std::mutex m;
    return m;
}

}  // namespace

std::string read_trusted_file(const std::filesystem::path& path, std::size_t max_size) {
    check_file_mode(path, false);
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) fail(path, "cannot open");
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail(path, "cannot read");
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_size)
            throw std::runtime_error(path.string() + " is larger than " + std::to_string(max_size) + " bytes");
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
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
        check_directory(path);
    }
    if (!content.empty() && content.back() != '\n') content += '\n';
    content += text;

    std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    std::filesystem::path temp;
    Fd out;
    std::random_device random;
    for (int attempt = 0; attempt < 16 && out.fd < 0; ++attempt) {
        // Appended piecewise: g++ 12 -O3 warns falsely (-Wrestrict) on "." + std::string.
        std::string name = ".";
        name += path.filename().string();
        name += ".tmp";
        name += std::to_string(random());
        temp = dir / name;
        out.fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out.fd < 0 && errno != EEXIST) fail(temp, "cannot create");
    }
    if (out.fd < 0) fail(temp, "cannot create");
    try {
        write_all_fd(out.fd, content, temp);
        if (::fchmod(out.fd, mode) != 0) fail(temp, "cannot chmod");
        if (::fsync(out.fd) != 0) fail(temp, "cannot fsync");
        if (::close(out.fd) != 0) {
            out.fd = -1;
            fail(temp, "cannot close");
        }
        out.fd = -1;
        if (::rename(temp.c_str(), path.c_str()) != 0) fail(path, "cannot rename onto");
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd >= 0) (void)::fsync(d.fd);
}

}  // namespace authchain::openssh
