// PLACEHOLDER until fw-core lands teddy/sha256.h
#include "teddy/sha256.h"
#include <mbedtls/sha256.h>
namespace teddy {
static_assert(sizeof(mbedtls_sha256_context) <= 128, "ctx");
Sha256::Sha256() { auto* c = reinterpret_cast<mbedtls_sha256_context*>(ctx_); mbedtls_sha256_init(c); mbedtls_sha256_starts_ret(c, 0); }
Sha256::~Sha256() { mbedtls_sha256_free(reinterpret_cast<mbedtls_sha256_context*>(ctx_)); }
void Sha256::update(const uint8_t* d, size_t n) { mbedtls_sha256_update_ret(reinterpret_cast<mbedtls_sha256_context*>(ctx_), d, n); }
Digest Sha256::finish() { Digest out{}; mbedtls_sha256_finish_ret(reinterpret_cast<mbedtls_sha256_context*>(ctx_), out.data()); return out; }
}
