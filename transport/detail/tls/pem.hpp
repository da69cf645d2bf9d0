// PEM blocks in a text: the pure, fuzzable front of every certificate,
// key and CSR file read for TLS.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace authchain::tls_detail {

// Bounds on what is read: a file holds at most this many blocks.
inline constexpr std::size_t max_pem_blocks = 64;

// The blocks "-----BEGIN <label>-----" ... "-----END <label>-----" of `text`,
// in order, each with its BEGIN and END lines, for the labels in `labels`
// (e.g. {"CERTIFICATE"}). Text between blocks (openssl's "Bag Attributes",
// comments) is skipped. Throws std::invalid_argument for a BEGIN of one of
// the labels without its END, or more than max_pem_blocks blocks.
std::vector<std::string_view> pem_blocks(std::string_view text, const std::vector<std::string>& labels);

}  // namespace authchain::tls_detail
