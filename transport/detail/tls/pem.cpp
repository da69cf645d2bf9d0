#include <authchain/transport/detail/tls/pem.hpp>

#include <stdexcept>

namespace authchain::tls_detail {

std::vector<std::string_view> pem_blocks(std::string_view text, const std::vector<std::string>& labels) {
    std::vector<std::string_view> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        // The earliest BEGIN line of any wanted label.
        std::size_t best = std::string_view::npos;
        const std::string* label = nullptr;
        for (const auto& l : labels) {
            const std::size_t at = text.find("-----BEGIN " + l + "-----", pos);
            if (at < best) best = at, label = &l;
        }
        if (!label) break;
        const std::string end = "-----END " + *label + "-----";
        const std::size_t stop = text.find(end, best);
        if (stop == std::string_view::npos) throw std::invalid_argument("PEM " + *label + " without its END line");
        if (out.size() == max_pem_blocks) throw std::invalid_argument("more than 64 PEM blocks");
        out.push_back(text.substr(best, stop + end.size() - best));
        pos = stop + end.size();
    }
    return out;
}

}  // namespace authchain::tls_detail
