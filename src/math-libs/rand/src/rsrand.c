#include "rsrand/rsrand.h"

#include <stdlib.h>

#include "rship/rship.h"

static const char anchor = 0;

int rsrand_generate(int device, uint64_t seed, uint64_t* out, uint64_t n, unsigned* wave) {
  kcc_launch launch = {n, NULL, NULL, out, seed};
  return rshipLaunch(device, "rsrand", &anchor, "generate", &launch, wave);
}

int rsrand_uniform(int device, uint64_t seed, uint64_t bound, uint64_t* out, uint64_t n) {
  uint64_t* bounds = (uint64_t*)malloc((n ? n : 1) * sizeof(uint64_t));
  if (!bounds) return rshipErrorOutOfMemory;
  for (uint64_t i = 0; i < n; ++i) bounds[i] = bound;
  kcc_launch launch = {n, NULL, bounds, out, seed};
  const int error = rshipLaunch(device, "rsrand", &anchor, "uniform", &launch, NULL);
  free(bounds);
  return error;
}
