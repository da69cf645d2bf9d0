// Wrapper: Authenticator -> Authenticator, the second shape of composition
// (tower's Layer). A wrapper runs around the layers it is given: it sees
// the connection before them and their verdict after them. with_timeout,
// audited and failure_throttle are wrappers.
//
//     Wrapper w = with_timeout(10s) | audited(sink);    // with_timeout outermost
//     Authenticator chain = w | (ip_filter(allow) | secure_channel());
//
// Order is behaviour, read left to right as with layers: the wrapper
// written first is the outermost and sees the connection first.
//   with_timeout(10s) | audited(sink)   the audit records the timeout as a denial
//   audited(sink) | with_timeout(10s)   the same (the audit sees the timeout's verdict)
//   audited(sink) | failure_throttle(o) blocked sources are audited
//   failure_throttle(o) | audited(sink) blocked sources leave no audit record
//
// A layer followed by a wrapper is a wrapper too: `a | w` waits for the rest
// of the chain, and `(a | w) | rest` is `a | w(rest)`. `|` groups from the
// left and `w | a` is a finished Authenticator, so a wrapper wraps the ONE
// operand written right after it: `w | a | b` is `w(a) | b`. Parenthesise
// what it should wrap:
//     ip_filter(allow) | failure_throttle(o) | (secure_channel() | public_key(k))
// means: ip_filter first, then failure_throttle around everything after it
// (the config's order means the same: config/ folds the layers from the right).
//
// identity() wraps nothing: identity() | a is a, w | identity() is w.
#pragma once

#include <functional>
#include <memory>

#include <authchain/compose/session.hpp>

namespace authchain {

class Wrapper {
public:
    using Function = std::function<Authenticator(Authenticator inner)>;

    // The identity wrapper.
    Wrapper() = default;
    explicit Wrapper(Function wrap) : wrap_(std::move(wrap)) {}

    // `inner` run inside this wrapper.
    Authenticator operator()(Authenticator inner) const { return wrap_ ? wrap_(std::move(inner)) : inner; }
    bool is_identity() const noexcept { return !wrap_; }

private:
    Function wrap_;
};

Wrapper identity();

// outer around inner: (outer | inner)(a) == outer(inner(a)).
Wrapper operator|(Wrapper outer, Wrapper inner);
// The wrapper applied to an authenticator: w | a == w(a).
Authenticator operator|(Wrapper outer, Authenticator inner);
// A layer, then a wrapper around the rest: (a | w)(rest) == a | w(rest).
Wrapper operator|(Authenticator first, Wrapper then);

}  // namespace authchain
