/* mathsupport: host references for the math libraries. All arithmetic is modulo 2^64. */
#ifndef MATHSUPPORT_MATHSUPPORT_H
#define MATHSUPPORT_MATHSUPPORT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MS_NTT_MODULUS UINT64_C(998244353)
#define MS_NTT_GENERATOR UINT64_C(3)

/* The splitmix64 finalizer: kcc's mix(). */
uint64_t ms_mix(uint64_t x);
/* x[i] = start + i * step */
void ms_iota(uint64_t* x, uint64_t n, uint64_t start, uint64_t step);
uint64_t ms_sum(const uint64_t* x, uint64_t n);
uint64_t ms_dot(const uint64_t* x, const uint64_t* y, uint64_t n);
uint64_t ms_mulmod(uint64_t a, uint64_t b, uint64_t m);
uint64_t ms_powmod(uint64_t base, uint64_t exponent, uint64_t m);
/* Naive forward number-theoretic transform of size n (a power of two dividing 2^23). */
void ms_ntt(const uint64_t* x, uint64_t n, uint64_t* out);
/* The sum over i < n of (i mod wave): what a lane-index reduction yields. */
uint64_t ms_lane_sum(uint64_t n, unsigned wave);
/* The wave size a gfx target must have (64 for gfx9, else 32), from its name; 0 if unknown. */
unsigned ms_expected_wave(const char* target);
/* Prints "RESULT <tool> <target> wave=<wave> <fields> ok|FAIL" and returns `ok`. */
int ms_report(const char* tool, const char* target, unsigned wave, const char* fields, int ok);

#ifdef __cplusplus
}
#endif

#endif
