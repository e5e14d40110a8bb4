/* ml-sample-mlp [target...]: a two-layer perceptron (16 -> 8 -> 4) on every device. */
#include <stdio.h>

#include "mathsupport/mathsupport.h"
#include "rsdnn/rsdnn.h"
#include "rship/rship.h"
#include "rship/testing.h"
#include "rsrand/rsrand.h"

#define IN 16u
#define HIDDEN 8u
#define OUT 4u
#define CLAMP UINT64_C(1000000000)

static const char anchor = 0;

static void reference_layer(const uint64_t* in, uint64_t inputs, const uint64_t* w,
                            const uint64_t* bias, uint64_t outputs, uint64_t* out) {
  for (uint64_t r = 0; r < outputs; ++r) {
    const uint64_t v = ms_dot(w + r * inputs, in, inputs) + bias[r];
    out[r] = v < CLAMP ? v : CLAMP;
  }
}

static int run(int device, const char* target) {
  uint64_t x[IN], w1[IN * HIDDEN], b1[HIDDEN], w2[HIDDEN * OUT], b2[OUT];
  uint64_t hidden[HIDDEN], out[OUT], ref_hidden[HIDDEN], ref_out[OUT];
  ms_iota(x, IN, 1, 2);
  int error = rsrand_uniform(device, 100, 64, w1, IN * HIDDEN);
  if (!error) error = rsrand_uniform(device, 200, 64, b1, HIDDEN);
  if (!error) error = rsrand_uniform(device, 300, 64, w2, HIDDEN * OUT);
  if (!error) error = rsrand_uniform(device, 400, 64, b2, OUT);
  unsigned wave = 0;
  if (!error) error = rsdnn_dense(device, x, IN, w1, b1, HIDDEN, CLAMP, hidden, NULL);
  if (!error) error = rsdnn_dense(device, hidden, HIDDEN, w2, b2, OUT, CLAMP, out, NULL);
  uint64_t score = 0;
  if (!error) {
    uint64_t index[OUT];
    ms_iota(index, OUT, 0, 1);
    kcc_launch launch = {OUT, out, index, &score, 0};
    error = rshipLaunch(device, "rsmlsample", &anchor, "score", &launch, &wave);
  }
  if (error) return rship_test_error("ml-sample-mlp", target, error);

  /* The host reference, with rsrand's weights recomputed from ms_mix. */
  uint64_t rw1[IN * HIDDEN], rb1[HIDDEN], rw2[HIDDEN * OUT], rb2[OUT];
  for (uint64_t i = 0; i < IN * HIDDEN; ++i) rw1[i] = ms_mix(100 + i) % 64;
  for (uint64_t i = 0; i < HIDDEN; ++i) rb1[i] = ms_mix(200 + i) % 64;
  for (uint64_t i = 0; i < HIDDEN * OUT; ++i) rw2[i] = ms_mix(300 + i) % 64;
  for (uint64_t i = 0; i < OUT; ++i) rb2[i] = ms_mix(400 + i) % 64;
  reference_layer(x, IN, rw1, rb1, HIDDEN, ref_hidden);
  reference_layer(ref_hidden, HIDDEN, rw2, rb2, OUT, ref_out);
  uint64_t ref_score = 0;
  for (uint64_t r = 0; r < OUT; ++r) ref_score += (ref_out[r] * 31 + r) % 1000003;

  int ok = wave == ms_expected_wave(target) && score == ref_score;
  for (uint64_t r = 0; r < OUT; ++r) ok = ok && out[r] == ref_out[r];
  char fields[160];
  snprintf(fields, sizeof fields, "score=%llu out_sum=%llu", (unsigned long long)score,
           (unsigned long long)ms_sum(out, OUT));
  return ms_report("ml-sample-mlp", target, wave, fields, ok);
}

int main(int argc, char** argv) { return rship_test_devices("ml-sample-mlp", argc, argv, run); }
