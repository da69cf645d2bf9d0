#include <authchain/compose/detail/sodium.hpp>

#include <sodium.h>
#include <stdexcept>

namespace authchain::detail {

void sodium_ready() {
    // sodium_init: 0 the first time, 1 when already done, -1 on failure.
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw std::runtime_error("libsodium could not be initialized (no random source?)");
}

}  // namespace authchain::detail
