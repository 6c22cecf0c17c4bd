#include "teddy/sha256.h"

#include <mbedtls/sha256.h>

namespace teddy {

namespace {
static_assert(sizeof(mbedtls_sha256_context) <= 128, "Sha256::ctx_ must hold an mbedtls_sha256_context");
mbedtls_sha256_context* ctx(uint8_t* raw) { return reinterpret_cast<mbedtls_sha256_context*>(raw); }
}  // namespace

Sha256::Sha256() {
  mbedtls_sha256_init(ctx(ctx_));
  mbedtls_sha256_starts_ret(ctx(ctx_), 0);
}

Sha256::~Sha256() { mbedtls_sha256_free(ctx(ctx_)); }

void Sha256::reset() { mbedtls_sha256_starts_ret(ctx(ctx_), 0); }

void Sha256::update(const uint8_t* data, size_t size) { mbedtls_sha256_update_ret(ctx(ctx_), data, size); }

Digest Sha256::finish() {
  Digest out{};
  mbedtls_sha256_finish_ret(ctx(ctx_), out.data());
  return out;
}

}  // namespace teddy
