/* rsblas: vector kernels on the device, modulo 2^64. Functions return an rshipError_t value;
   `wave` arguments (may be NULL) receive the wave size of the code object that ran. */
#ifndef RSBLAS_RSBLAS_H
#define RSBLAS_RSBLAS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

int rsblas_axpy(int device, uint64_t n, uint64_t alpha, const uint64_t* x, const uint64_t* y,
                uint64_t* out);
int rsblas_scal(int device, uint64_t n, uint64_t alpha, const uint64_t* x, uint64_t* out);
int rsblas_dot(int device, uint64_t n, const uint64_t* x, const uint64_t* y, uint64_t* result,
               unsigned* wave);
int rsblas_asum(int device, uint64_t n, const uint64_t* x, uint64_t* result);
int rsblas_lane_sum(int device, uint64_t n, uint64_t* result, unsigned* wave);

#ifdef __cplusplus
}
#endif

#endif
