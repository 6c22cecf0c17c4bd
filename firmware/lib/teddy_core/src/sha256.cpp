#include "teddy/sha256.h"

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

namespace teddy {

namespace {
static_assert(sizeof(mbedtls_sha256_context) <= 128, "Sha256::ctx_ must hold an mbedtls_sha256_context");
mbedtls_sha256_context* ctx(uint8_t* raw) { return reinterpret_cast<mbedtls_sha256_context*>(raw); }

// mbedtls 3 (ESP-IDF 5.x) dropped the `_ret` names that mbedtls 2.x (Debian's, the host build) uses;
// both return 0 on success, and with valid arguments they cannot fail.
#if MBEDTLS_VERSION_MAJOR >= 3
void starts(mbedtls_sha256_context* c) { mbedtls_sha256_starts(c, 0); }
void update(mbedtls_sha256_context* c, const uint8_t* d, size_t n) { mbedtls_sha256_update(c, d, n); }
void finish(mbedtls_sha256_context* c, uint8_t* out) { mbedtls_sha256_finish(c, out); }
#else
void starts(mbedtls_sha256_context* c) { mbedtls_sha256_starts_ret(c, 0); }
void update(mbedtls_sha256_context* c, const uint8_t* d, size_t n) { mbedtls_sha256_update_ret(c, d, n); }
void finish(mbedtls_sha256_context* c, uint8_t* out) { mbedtls_sha256_finish_ret(c, out); }
#endif
}  // namespace

Sha256::Sha256() {
  mbedtls_sha256_init(ctx(ctx_));
  starts(ctx(ctx_));
}

Sha256::~Sha256() { mbedtls_sha256_free(ctx(ctx_)); }

void Sha256::reset() { starts(ctx(ctx_)); }

void Sha256::update(const uint8_t* data, size_t size) { teddy::update(ctx(ctx_), data, size); }

Digest Sha256::finish() {
  Digest out{};
  teddy::finish(ctx(ctx_), out.data());
  return out;
}

}  // namespace teddy
