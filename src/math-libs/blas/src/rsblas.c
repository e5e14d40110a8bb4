#include "rsblas/rsblas.h"

#include <stddef.h>

#include "rship/rship.h"

static const char anchor = 0;

static int run(int device, const char* kernel, uint64_t n, const uint64_t* a, const uint64_t* b,
               uint64_t* out, uint64_t alpha, unsigned* wave) {
  kcc_launch launch = {n, a, b, out, alpha};
  return rshipLaunch(device, "rsblas", &anchor, kernel, &launch, wave);
}

int rsblas_axpy(int device, uint64_t n, uint64_t alpha, const uint64_t* x, const uint64_t* y,
                uint64_t* out) {
  return run(device, "axpy", n, x, y, out, alpha, NULL);
}

int rsblas_scal(int device, uint64_t n, uint64_t alpha, const uint64_t* x, uint64_t* out) {
  return run(device, "scal", n, x, NULL, out, alpha, NULL);
}

int rsblas_dot(int device, uint64_t n, const uint64_t* x, const uint64_t* y, uint64_t* result,
               unsigned* wave) {
  return run(device, "dot", n, x, y, result, 0, wave);
}

int rsblas_asum(int device, uint64_t n, const uint64_t* x, uint64_t* result) {
  return run(device, "asum", n, x, NULL, result, 0, NULL);
}

int rsblas_lane_sum(int device, uint64_t n, uint64_t* result, unsigned* wave) {
  return run(device, "lanes", n, NULL, NULL, result, 0, wave);
}
