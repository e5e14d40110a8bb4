/* rsrand: random numbers on the device. Functions return an rshipError_t value. */
#ifndef RSRAND_RSRAND_H
#define RSRAND_RSRAND_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* out[i] = mix(seed + i); `wave` (may be NULL) receives the wave size that ran. */
int rsrand_generate(int device, uint64_t seed, uint64_t* out, uint64_t n, unsigned* wave);
/* out[i] = mix(seed + i) % bound */
int rsrand_uniform(int device, uint64_t seed, uint64_t bound, uint64_t* out, uint64_t n);

#ifdef __cplusplus
}
#endif

#endif
