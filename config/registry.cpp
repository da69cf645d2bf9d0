#include "config/registry.hpp"

#include <algorithm>
#include <stdexcept>

#include <authchain/compose/text.hpp>
#include "config/kinds.hpp"

namespace authchain::config {

std::string_view to_string(Side side) { return side == Side::server ? "server" : "client"; }

BuiltLayer before_rest(Authenticator a) { return around_rest(std::move(a) | identity()); }

BuiltLayer around_rest(Wrapper w) { return BuiltLayer{.kind = {}, .wrapper = std::move(w), .reloadables = {}}; }

Registry& Registry::add(LayerKind kind) {
    if (find(kind.side, kind.name))
        throw std::logic_error("layer kind \"" + kind.name + "\" added twice to the " +
                               std::string(to_string(kind.side)) + " side");
    kinds_.push_back(std::move(kind));
    return *this;
}

const LayerKind* Registry::find(Side side, std::string_view name) const {
    auto it = std::find_if(kinds_.begin(), kinds_.end(),
                           [&](const LayerKind& k) { return k.side == side && k.name == name; });
    return it == kinds_.end() ? nullptr : &*it;
}

std::vector<const LayerKind*> Registry::kinds(Side side) const {
    std::vector<const LayerKind*> out;
    for (const auto& k : kinds_)
        if (k.side == side) out.push_back(&k);
    return out;
}

std::string Registry::known_kinds(Side side) const {
    return join(kinds(side), ", ", [](const LayerKind* k) -> const std::string& { return k->name; });
}

bool Registry::chain_authenticates(const std::vector<std::string>& kinds, Side side) const {
    return std::any_of(kinds.begin(), kinds.end(), [&](const std::string& name) {
        const LayerKind* k = find(side, name);
        return k && k->authenticates;
    });
}

const Registry& built_in_registry() {
    static const Registry registry = [] {
        Registry r;
        add_access_kinds(r);
        add_crypto_kinds(r);
        add_resumption_kinds(r);
        add_password_kinds(r);
        add_psk_kinds(r);
        add_tls_kinds(r);
        add_any_of_kinds(r);
        return r;
    }();
    return registry;
}

std::string known_kinds(Side side) { return built_in_registry().known_kinds(side); }

bool chain_authenticates(const std::vector<std::string>& kinds, Side side) {
    return built_in_registry().chain_authenticates(kinds, side);
}

const Registry& LayerContext::kinds() const { return registry ? *registry : built_in_registry(); }

BuiltLayer build_layer(TableReader& r, const LayerContext& context) {
    std::string name = r.required_string("kind");
    const LayerKind* kind = context.kinds().find(context.side, name);
    if (!kind)
        r.fail("kind", "unknown kind \"" + name + "\" (known " + std::string(to_string(context.side)) +
                           " kinds: " + context.kinds().known_kinds(context.side) + ")");
    std::vector<std::string> keys{"kind"};
    keys.insert(keys.end(), kind->keys.begin(), kind->keys.end());
    r.declare(std::move(keys));
    BuiltLayer layer;
    try {
        layer = kind->build(r, context);
    } catch (const ConfigError&) {
        throw;
    } catch (const UndeclaredKey&) {
        throw;
    } catch (const std::exception& e) {
        r.fail(name + ": " + e.what());
    }
    r.finish();
    layer.kind = std::move(name);
    return layer;
}

std::vector<BuiltLayer> LayerContext::nested_layers(TableReader& r, std::string_view key) const {
    std::vector<BuiltLayer> out;
    const toml::array* tables = r.tables(key);
    if (!tables) return out;
    for (const toml::node& node : *tables) {
        TableReader nested = r.nested(*node.as_table(), r.prefix() + "." + std::string(key) + "[" +
                                                            std::to_string(out.size()) + "]");
        out.push_back(build_layer(nested, *this));
        if (kinds().find(side, out.back().kind)->stands_in_for_rest)
            nested.fail("kind", out.back().kind + " cannot be nested here: put it in the chain, before " +
                                    r.prefix());
    }
    return out;
}

Chain build_chain(const TableReader& top, const toml::array* layers, const LayerContext& context,
                  Authenticator tail) {
    Chain chain;
    std::vector<Wrapper> wrappers;
    std::optional<std::size_t> standing_in;  // the index of a resumption layer
    bool transport_before = false;
    for (std::size_t i = 0; layers && i < layers->size(); ++i) {
        TableReader r = top.nested(*layers->get(i)->as_table(), "layer[" + std::to_string(i) + "]");
        BuiltLayer layer = build_layer(r, context);
        const LayerKind& kind = *context.kinds().find(context.side, layer.kind);
        if (standing_in && (!kind.authenticates || kind.transport))
            r.fail("kind", layer.kind + " after " + chain.names[*standing_in] + " (layer[" +
                               std::to_string(*standing_in) + "]): a resumed connection skips every layer after it, "
                               "so only layers that authenticate may follow it; put " + layer.kind + " before it");
        if (kind.stands_in_for_rest) {
            if (!transport_before)
                r.fail("kind", layer.kind + " needs secure_channel or tls before it (its proofs cover their channel id)");
            standing_in = i;
        }
        transport_before = transport_before || kind.transport;
        wrappers.push_back(std::move(layer.wrapper));
        chain.names.push_back(std::move(layer.kind));
        chain.reloadables.insert(chain.reloadables.end(), layer.reloadables.begin(), layer.reloadables.end());
    }
    auto fold = [&](std::size_t from, std::size_t to) {
        Wrapper whole = identity();
        for (std::size_t i = from; i < to; ++i) whole = std::move(whole) | wrappers[i];
        return whole;
    };
    if (!standing_in) {
        chain.authenticator = fold(0, wrappers.size()) | (tail ? std::move(tail) : pass());
        return chain;
    }
    // head | (resumption(after | pass()) | tail): the tail runs on resumed connections too.
    Authenticator carried = wrappers[*standing_in] | (fold(*standing_in + 1, wrappers.size()) | pass());
    chain.authenticator = fold(0, *standing_in) | (tail ? std::move(carried) | std::move(tail) : std::move(carried));
    return chain;
}

}  // namespace authchain::config
