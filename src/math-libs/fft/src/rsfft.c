#include "rsfft/rsfft.h"

#include <stdlib.h>

#include "mathsupport/mathsupport.h"
#include "rsblas/rsblas.h"
#include "rship/rship.h"
#include "rsrand/rsrand.h"

static const char anchor = 0;

int rsfft_forward(int device, const uint64_t* x, uint64_t n, uint64_t* out, unsigned* wave) {
  const uint64_t p = MS_NTT_MODULUS;
  if (n == 0 || (n & (n - 1)) != 0 || (p - 1) % n != 0) return rshipErrorInvalidValue;
  uint64_t* twiddle = (uint64_t*)malloc(n * sizeof(uint64_t));
  uint64_t* products = (uint64_t*)malloc(n * sizeof(uint64_t));
  int error = (twiddle && products) ? rshipSuccess : rshipErrorOutOfMemory;
  const uint64_t w = ms_powmod(MS_NTT_GENERATOR, (p - 1) / n, p);
  for (uint64_t k = 0; k < n && !error; ++k) {
    const uint64_t wk = ms_powmod(w, k, p);
    uint64_t power = 1;
    for (uint64_t j = 0; j < n; ++j) {
      twiddle[j] = power;
      power = ms_mulmod(power, wk, p);
    }
    kcc_launch product = {n, x, twiddle, products, 0};
    error = rshipLaunch(device, "rsfft", &anchor, "mulmod", &product, wave);
    if (!error) {
      kcc_launch sum = {n, products, NULL, &out[k], 0};
      error = rshipLaunch(device, "rsfft", &anchor, "summod", &sum, NULL);
      out[k] %= p;
    }
  }
  free(twiddle);
  free(products);
  return error;
}

int rsfft_random_spectrum(int device, uint64_t seed, uint64_t n, uint64_t* out, uint64_t* energy) {
  uint64_t* x = (uint64_t*)malloc((n ? n : 1) * sizeof(uint64_t));
  if (!x) return rshipErrorOutOfMemory;
  int error = rsrand_uniform(device, seed, MS_NTT_MODULUS, x, n);
  if (!error) error = rsfft_forward(device, x, n, out, NULL);
  if (!error) error = rsblas_dot(device, n, out, out, energy, NULL);
  free(x);
  return error;
}
