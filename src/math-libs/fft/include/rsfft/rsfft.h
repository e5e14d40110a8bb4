/* rsfft: a number-theoretic transform on the device (modulo 998244353). Functions return an
   rshipError_t value. */
#ifndef RSFFT_RSFFT_H
#define RSFFT_RSFFT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The forward transform of x (n a power of two, values below the modulus). */
int rsfft_forward(int device, const uint64_t* x, uint64_t n, uint64_t* out, unsigned* wave);
/* Transforms n random values (rsrand, `seed`) into out and returns their energy (rsblas dot of
   the spectrum with itself, modulo 2^64) in `energy`. */
int rsfft_random_spectrum(int device, uint64_t seed, uint64_t n, uint64_t* out, uint64_t* energy);

#ifdef __cplusplus
}
#endif

#endif
