/* fft-test [target...]: transform random inputs on every device and compare with the host
   reference (rsrand's values recomputed with ms_mix, a naive transform, a host dot). */
#include <stdio.h>

#include "mathsupport/mathsupport.h"
#include "rsfft/rsfft.h"
#include "rship/testing.h"

#define N 64u
#define SEED 7u

static int run(int device, const char* target) {
  uint64_t x[N], spectrum[N], ref[N];
  uint64_t energy = 0;
  unsigned wave = 0;
  int error = rsfft_random_spectrum(device, SEED, N, spectrum, &energy);
  if (error) return rship_test_error("fft", target, error);
  for (uint64_t i = 0; i < N; ++i) x[i] = ms_mix(SEED + i) % MS_NTT_MODULUS;
  uint64_t forward[N];
  error = rsfft_forward(device, x, N, forward, &wave);
  if (error) return rship_test_error("fft", target, error);
  ms_ntt(x, N, ref);
  int ok = wave == ms_expected_wave(target) && energy == ms_dot(ref, ref, N);
  for (uint64_t k = 0; k < N; ++k) ok = ok && spectrum[k] == ref[k] && forward[k] == ref[k];
  char fields[160];
  snprintf(fields, sizeof fields, "spectrum_sum=%llu energy=%llu",
           (unsigned long long)ms_sum(spectrum, N), (unsigned long long)energy);
  return ms_report("fft", target, wave, fields, ok);
}

int main(int argc, char** argv) { return rship_test_devices("fft", argc, argv, run); }
