#include <authchain/auth/openssh/passphrase.hpp>

#include <botan/mem_ops.h>

#include <memory>
#include <stdexcept>
#include <utility>

#include <authchain/auth/openssh/file_mode.hpp>
#include <authchain/auth/openssh/whole_file.hpp>

namespace authchain::openssh {

void wipe(std::string& secret) {
    secret.resize(secret.capacity());  // within capacity: no reallocation, the tail is zeroed too
    Botan::secure_scrub_memory(secret.data(), secret.size());
    secret.clear();
}

Passphrase::Passphrase(std::string text) {
    auto secret = std::make_shared<const Secret>(text.begin(), text.end());
    wipe(text);
    source_ = [secret] { return std::optional<Secret>(*secret); };
}

Passphrase::Passphrase(std::optional<std::string> text) {
    if (text) *this = Passphrase(std::move(*text));
}

Passphrase Passphrase::from_file(std::filesystem::path path) {
    return from_source([path = std::move(path)]() -> std::optional<Secret> {
        FileDescriptor file = open_checked(path, true);  // checked and read: the same descriptor
        Secret text;
        switch (read_fd_bounded(file.get(), max_passphrase_file, text)) {
            case ReadStatus::ok:
                break;
            case ReadStatus::too_large:
                throw std::runtime_error("passphrase file '" + path.string() + "' is larger than " +
                                         std::to_string(max_passphrase_file) + " bytes");
            case ReadStatus::cannot_open:
            case ReadStatus::cannot_read:
                throw std::runtime_error("cannot read passphrase file '" + path.string() + "'");
        }
        while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
        return text;
    });
}

Passphrase Passphrase::from_source(Source source) {
    Passphrase p;
    p.source_ = std::move(source);
    return p;
}

std::optional<Passphrase::Secret> Passphrase::get() const {
    if (!source_) return std::nullopt;
    return source_();
}

PrivateKey load_private_key(const std::filesystem::path& path, const Passphrase& passphrase) {
    const std::optional<Passphrase::Secret> secret = passphrase.get();
    if (!secret) return PrivateKey::load(path);
    return PrivateKey::load(path, std::string_view(secret->data(), secret->size()));
}

}  // namespace authchain::openssh
