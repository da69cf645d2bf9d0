// A Stream over a shared inner Stream that reports another channel id
// (any_of's transcript binding). Destroying it leaves the inner stream open,
// so a method that fails and drops its Session does not end the connection;
// close() and abort() do reach the inner stream (a deadline still works).
#pragma once

#include <memory>

#include <authchain/compose/stream.hpp>

namespace authchain::detail {

// A new Stream stacked on `home`'s connection (the new top of its trail)
// that reads and writes *home and reports `channel_id` (none when empty).
// `home` keeps its stream: it stays usable after the new one is gone.
Stream bind_channel(const std::shared_ptr<Stream>& home, Bytes channel_id);

}  // namespace authchain::detail
