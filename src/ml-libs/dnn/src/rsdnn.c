#include "rsdnn/rsdnn.h"

#include <stdlib.h>

#include "rsblas/rsblas.h"
#include "rsfft/rsfft.h"
#include "rship/rship.h"

static const char anchor = 0;

int rsdnn_dense(int device, const uint64_t* in, uint64_t inputs, const uint64_t* weights,
                const uint64_t* bias, uint64_t outputs, uint64_t clamp, uint64_t* out,
                unsigned* wave) {
  uint64_t* products = (uint64_t*)malloc((outputs ? outputs : 1) * sizeof(uint64_t));
  if (!products) return rshipErrorOutOfMemory;
  int error = rshipSuccess;
  for (uint64_t r = 0; r < outputs && !error; ++r) {
    error = rsblas_dot(device, inputs, weights + r * inputs, in, &products[r], NULL);
  }
  if (!error) {
    kcc_launch launch = {outputs, products, bias, out, clamp};
    error = rshipLaunch(device, "rsdnn", &anchor, "bias_clamp", &launch, wave);
  }
  free(products);
  return error;
}

int rsdnn_spectral(int device, const uint64_t* x, uint64_t n, uint64_t* out) {
  return rsfft_forward(device, x, n, out, NULL);
}
