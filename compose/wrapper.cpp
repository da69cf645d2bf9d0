#include <authchain/compose/wrapper.hpp>

namespace authchain {

Wrapper identity() { return Wrapper(); }

Wrapper operator|(Wrapper outer, Wrapper inner) {
    if (outer.is_identity()) return inner;
    if (inner.is_identity()) return outer;
    return Wrapper([outer = std::move(outer), inner = std::move(inner)](Authenticator a) {
        return outer(inner(std::move(a)));
    });
}

Authenticator operator|(Wrapper outer, Authenticator inner) { return outer(std::move(inner)); }

Wrapper operator|(Authenticator first, Wrapper then) {
    return Wrapper([first = std::move(first), then = std::move(then)](Authenticator rest) {
        return first | then(std::move(rest));
    });
}

}  // namespace authchain
