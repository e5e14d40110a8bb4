/* dnn-test [target...]: a dense layer and a spectral feature on every device, compared with
   the host reference. in[j] = j + 1, W[r][j] = r * 16 + j, bias[r] = 5 (r + 1), clamp 20000. */
#include <stdio.h>

#include "mathsupport/mathsupport.h"
#include "rsdnn/rsdnn.h"
#include "rship/testing.h"

#define INPUTS 16u
#define OUTPUTS 8u
#define CLAMP 20000u

static int run(int device, const char* target) {
  uint64_t in[INPUTS], weights[INPUTS * OUTPUTS], bias[OUTPUTS], out[OUTPUTS];
  uint64_t spectrum[INPUTS], ref_spectrum[INPUTS];
  ms_iota(in, INPUTS, 1, 1);
  ms_iota(weights, INPUTS * OUTPUTS, 0, 1);
  ms_iota(bias, OUTPUTS, 5, 5);
  unsigned wave = 0;
  int error = rsdnn_dense(device, in, INPUTS, weights, bias, OUTPUTS, CLAMP, out, &wave);
  if (!error) error = rsdnn_spectral(device, in, INPUTS, spectrum);
  if (error) return rship_test_error("dnn", target, error);
  int ok = wave == ms_expected_wave(target);
  for (uint64_t r = 0; r < OUTPUTS; ++r) {
    uint64_t expected = ms_dot(weights + r * INPUTS, in, INPUTS) + bias[r];
    if (expected > CLAMP) expected = CLAMP;
    ok = ok && out[r] == expected;
  }
  ms_ntt(in, INPUTS, ref_spectrum);
  for (uint64_t k = 0; k < INPUTS; ++k) ok = ok && spectrum[k] == ref_spectrum[k];
  char fields[160];
  snprintf(fields, sizeof fields, "dense_sum=%llu spectrum_sum=%llu",
           (unsigned long long)ms_sum(out, OUTPUTS), (unsigned long long)ms_sum(spectrum, INPUTS));
  return ms_report("dnn", target, wave, fields, ok);
}

int main(int argc, char** argv) { return rship_test_devices("dnn", argc, argv, run); }
