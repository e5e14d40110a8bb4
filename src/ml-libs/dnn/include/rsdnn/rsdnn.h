/* rsdnn: dense layers on the device, modulo 2^64. Functions return an rshipError_t value. */
#ifndef RSDNN_RSDNN_H
#define RSDNN_RSDNN_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[r] = min(sum_j weights[r * inputs + j] * in[j] + bias[r], clamp) for r < outputs. */
int rsdnn_dense(int device, const uint64_t* in, uint64_t inputs, const uint64_t* weights,
                const uint64_t* bias, uint64_t outputs, uint64_t clamp, uint64_t* out,
                unsigned* wave);
/* The spectrum of x (n a power of two, values below 998244353). */
int rsdnn_spectral(int device, const uint64_t* x, uint64_t n, uint64_t* out);

#ifdef __cplusplus
}
#endif

#endif
