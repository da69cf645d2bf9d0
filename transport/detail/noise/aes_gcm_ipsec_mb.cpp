#include <authchain/transport/detail/noise/aes_gcm_ipsec_mb.hpp>

#include <atomic>
#include <cstdlib>
#include <sodium.h>
#include <string_view>

#include <authchain/compose/detail/sodium.hpp>
#include <authchain/transport/detail/noise/suite.hpp>

#if AUTHCHAIN_HAVE_IPSEC_MB
#include <intel-ipsec-mb.h>
#endif

namespace authchain::noise::ipsec_mb {

namespace {

// What the process may use: decided once (the environment, the build, the CPU).
struct Decision {
    bool usable = false;
    std::string why;
#if AUTHCHAIN_HAVE_IPSEC_MB
    // Only its table of direct AES-GCM functions is used, never its job
    // queues, so one manager serves every thread. Reachable until exit.
    IMB_MGR* manager = nullptr;
#endif
};

Decision decide() {
    authchain::detail::sodium_ready();  // sodium_memcmp, sodium_memzero
    Decision d;
    // NOLINTNEXTLINE(concurrency-mt-unsafe): the library never calls setenv/putenv.
    const char* choice = std::getenv("AUTHCHAIN_AES_GCM");
    if (choice != nullptr && std::string_view(choice) != "auto") {
        d.why = std::string_view(choice) == "libcrypto"
                    ? "AUTHCHAIN_AES_GCM=libcrypto"
                    : "AUTHCHAIN_AES_GCM=" + std::string(choice) + " (not auto or libcrypto)";
        return d;
    }
#if AUTHCHAIN_HAVE_IPSEC_MB
    IMB_MGR* manager = alloc_mb_mgr(0);
    if (manager == nullptr) {
        d.why = "ipsec-mb could not allocate its manager";
        return d;
    }
    IMB_ARCH arch = IMB_ARCH_NONE;
    init_mb_mgr_auto(manager, &arch);
    constexpr std::uint64_t needed = IMB_FEATURE_AVX512_SKX | IMB_FEATURE_VAES | IMB_FEATURE_VPCLMULQDQ;
    if (arch != IMB_ARCH_AVX512 || (manager->features & needed) != needed) {
        free_mb_mgr(manager);
        d.why = "the CPU lacks AVX-512, VAES or VPCLMULQDQ (libcrypto is as fast there)";
        return d;
    }
    // The library checks its own ciphers against known answers when it starts.
    if ((manager->features & IMB_FEATURE_SELF_TEST) != 0 && (manager->features & IMB_FEATURE_SELF_TEST_PASS) == 0) {
        free_mb_mgr(manager);
        d.why = "ipsec-mb failed its self-test";
        return d;
    }
    d.usable = true;
    d.manager = manager;
    d.why = std::string("ipsec-mb ") + IMB_VERSION_STR + " (AVX-512, VAES)";
#else
    d.why = "built without ipsec-mb";
#endif
    return d;
}

const Decision& decision() {
    static const Decision d = decide();
    return d;
}

std::atomic<bool> enabled{true};

}  // namespace

bool available() noexcept {
    try {
        return enabled.load(std::memory_order_relaxed) && decision().usable;
    } catch (...) {  // the decision allocates a string: out of memory
        return false;
    }
}

std::string description() {
    if (!decision().usable) return "not used: " + decision().why;
    if (!enabled.load(std::memory_order_relaxed)) return "not used: turned off by set_enabled";
    return decision().why;
}

void set_enabled(bool on) noexcept { enabled.store(on, std::memory_order_relaxed); }

#if AUTHCHAIN_HAVE_IPSEC_MB

// ipsec-mb reads the expanded key with aligned loads.
struct alignas(64) Key::Expanded {
    gcm_key_data data;
};

namespace {

// The per-record state (partial block, running GHASH), wiped after use.
struct Context {
    gcm_context_data data{};
    ~Context() { sodium_memzero(&data, sizeof data); }
};

IMB_MGR& manager() { return *decision().manager; }

}  // namespace

Key::Key() : expanded_(std::make_unique<Expanded>()) {}

Key::~Key() { sodium_memzero(&expanded_->data, sizeof expanded_->data); }

void Key::set(std::span<const std::uint8_t, 32> key) { IMB_AES256_GCM_PRE(&manager(), key.data(), &expanded_->data); }

void Key::seal(const std::array<std::uint8_t, 12>& iv, ByteView ad, ByteView head, ByteView body,
               std::uint8_t* out) const {
    IMB_MGR& m = manager();
    Context context;
    IMB_AES256_GCM_INIT_VAR_IV(&m, &expanded_->data, &context.data, iv.data(), iv.size(),
                               ad.empty() ? nullptr : ad.data(), ad.size());
    if (!head.empty()) IMB_AES256_GCM_ENC_UPDATE(&m, &expanded_->data, &context.data, out, head.data(), head.size());
    if (!body.empty())
        IMB_AES256_GCM_ENC_UPDATE(&m, &expanded_->data, &context.data, out + head.size(), body.data(), body.size());
    IMB_AES256_GCM_ENC_FINALIZE(&m, &expanded_->data, &context.data, out + head.size() + body.size(), TAGLEN);
}

bool Key::open(const std::array<std::uint8_t, 12>& iv, ByteView ad, std::span<std::uint8_t> data) const {
    if (data.size() < TAGLEN) return false;
    const std::size_t plain = data.size() - TAGLEN;
    IMB_MGR& m = manager();
    Context context;
    std::array<std::uint8_t, TAGLEN> computed{};
    IMB_AES256_GCM_INIT_VAR_IV(&m, &expanded_->data, &context.data, iv.data(), iv.size(),
                               ad.empty() ? nullptr : ad.data(), ad.size());
    if (plain > 0) IMB_AES256_GCM_DEC_UPDATE(&m, &expanded_->data, &context.data, data.data(), data.data(), plain);
    IMB_AES256_GCM_DEC_FINALIZE(&m, &expanded_->data, &context.data, computed.data(), computed.size());
    return sodium_memcmp(computed.data(), data.data() + plain, TAGLEN) == 0;
}

#else

struct Key::Expanded {};

Key::Key() = default;
Key::~Key() = default;

// CipherState calls none of these unless available(), which this build never is.
void Key::set(std::span<const std::uint8_t, 32>) { throw NoiseError("AES-GCM: built without ipsec-mb"); }

void Key::seal(const std::array<std::uint8_t, 12>&, ByteView, ByteView, ByteView, std::uint8_t*) const {
    throw NoiseError("AES-GCM: built without ipsec-mb");
}

bool Key::open(const std::array<std::uint8_t, 12>&, ByteView, std::span<std::uint8_t>) const {
    throw NoiseError("AES-GCM: built without ipsec-mb");
}

#endif

}  // namespace authchain::noise::ipsec_mb
