#include <authchain/auth/openssh/whole_file.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <botan/mem_ops.h>

#include <cerrno>
#include <system_error>
#include <utility>

namespace authchain::openssh {

namespace {

// Closes a file descriptor on scope exit.
struct Fd {
    int fd = -1;
    explicit Fd(int f) : fd(f) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
    int release() { return std::exchange(fd, -1); }
};

template <class Buffer>
void wipe(Buffer& out) {
    Botan::secure_scrub_memory(out.data(), out.size());
    out.clear();
}

template <class Buffer>
ReadStatus read_from(int fd, std::size_t max_size, Buffer& out) {
    wipe(out);
    char buf[4096];
    ReadStatus status = ReadStatus::ok;
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            status = ReadStatus::cannot_read;
            break;
        }
        if (n == 0) break;
        if (out.size() + static_cast<std::size_t>(n) > max_size) {
            status = ReadStatus::too_large;
            break;
        }
        out.insert(out.end(), buf, buf + n);
    }
    const int saved = errno;
    Botan::secure_scrub_memory(buf, sizeof buf);
    if (status != ReadStatus::ok) wipe(out);
    errno = saved;
    return status;
}

template <class Buffer>
ReadStatus read_into(const std::filesystem::path& path, std::size_t max_size, Buffer& out) {
    wipe(out);
    Fd f{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (f.fd < 0) return ReadStatus::cannot_open;
    return read_from(f.fd, max_size, out);
}

std::system_error os_error(const std::string& what) { return {errno, std::generic_category(), what}; }

void write_all(int fd, std::string_view data, const std::string& name) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) throw os_error("cannot write '" + name + "'");
        data.remove_prefix(static_cast<std::size_t>(n));
    }
}

}  // namespace

ReadStatus read_file_bounded(const std::filesystem::path& path, std::size_t max_size, std::string& out) {
    return read_into(path, max_size, out);
}

ReadStatus read_file_bounded(const std::filesystem::path& path, std::size_t max_size,
                             Botan::secure_vector<char>& out) {
    return read_into(path, max_size, out);
}

ReadStatus read_fd_bounded(int fd, std::size_t max_size, std::string& out) { return read_from(fd, max_size, out); }

ReadStatus read_fd_bounded(int fd, std::size_t max_size, Botan::secure_vector<char>& out) {
    return read_from(fd, max_size, out);
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content, mode_t mode) {
    const std::filesystem::path dir = path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path();
    // Appended piecewise: g++ 12 -O3 warns falsely (-Wrestrict) on "." + std::string.
    std::string temp = (dir / ".").string();
    temp += path.filename().string();
    temp += ".tmpXXXXXX";
    Fd out{::mkostemp(temp.data(), O_CLOEXEC)};  // created exclusively, mode 0600
    if (out.fd < 0) throw os_error("cannot create a temporary file for '" + path.string() + "'");
    try {
        if (::fchmod(out.fd, mode) != 0) throw os_error("cannot chmod '" + temp + "'");
        write_all(out.fd, content, temp);
        if (::fsync(out.fd) != 0) throw os_error("cannot fsync '" + temp + "'");
        if (::close(out.release()) != 0) throw os_error("cannot close '" + temp + "'");
        if (::rename(temp.c_str(), path.c_str()) != 0)
            throw os_error("cannot rename '" + temp + "' to '" + path.string() + "'");
    } catch (...) {
        ::unlink(temp.c_str());
        throw;
    }
    Fd d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
    if (d.fd >= 0) (void)::fsync(d.fd);  // makes the rename durable
}

}  // namespace authchain::openssh
