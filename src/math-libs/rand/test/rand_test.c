/* rand-test [target...]: run rsrand on every device and compare with a host reference of its
   own (rand does not depend on math-support). */
#include <stdio.h>
#include <string.h>

#include "rship/rship.h"
#include "rship/testing.h"
#include "rsrand/rsrand.h"

#define N 4096u
#define SEED 42u
#define BOUND 1000u

static uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

static int run(int device, const char* target) {
  uint64_t out[N];
  unsigned wave = 0;
  int error = rsrand_generate(device, SEED, out, N, &wave);
  if (error) return rship_test_error("rand", target, error);
  uint64_t generate_sum = 0, ref_sum = 0, uniform_sum = 0;
  int ok = 1;
  for (uint64_t i = 0; i < N; ++i) {
    generate_sum += out[i];
    ref_sum += splitmix64(SEED + i);
  }
  error = rsrand_uniform(device, SEED, BOUND, out, N);
  if (error) return rship_test_error("rand", target, error);
  for (uint64_t i = 0; i < N; ++i) {
    ok = ok && out[i] == splitmix64(SEED + i) % BOUND;
    uniform_sum += out[i];
  }
  const unsigned expected_wave = strcspn(target, ":") == 6 ? 64u : 32u;
  ok = ok && generate_sum == ref_sum && wave == expected_wave;
  printf("RESULT rand %s wave=%u generate_sum=%llu uniform_sum=%llu %s\n", target, wave,
         (unsigned long long)generate_sum, (unsigned long long)uniform_sum, ok ? "ok" : "FAIL");
  return ok;
}

int main(int argc, char** argv) { return rship_test_devices("rand", argc, argv, run); }
