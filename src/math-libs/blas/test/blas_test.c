/* blas-test [target...]: run rsblas on every device and compare with the host reference.
   x[i] = i + 1, y[i] = 3 i, n = 1000: dot, sum of axpy(7), lane sum. */
#include <stdio.h>

#include "mathsupport/mathsupport.h"
#include "rsblas/rsblas.h"
#include "rship/testing.h"

#define N 1000u
#define ALPHA 7u

static int run(int device, const char* target) {
  uint64_t x[N], y[N], out[N], ref[N];
  ms_iota(x, N, 1, 1);
  ms_iota(y, N, 0, 3);
  uint64_t dot = 0, lanes = 0;
  unsigned wave = 0, lane_wave = 0;
  int error = rsblas_dot(device, N, x, y, &dot, &wave);
  if (!error) error = rsblas_axpy(device, N, ALPHA, x, y, out);
  if (!error) error = rsblas_lane_sum(device, N, &lanes, &lane_wave);
  if (error) return rship_test_error("blas", target, error);
  for (uint64_t i = 0; i < N; ++i) ref[i] = ALPHA * x[i] + y[i];
  const unsigned expected_wave = ms_expected_wave(target);
  const int ok = dot == ms_dot(x, y, N) && ms_sum(out, N) == ms_sum(ref, N) &&
                 wave == expected_wave && lane_wave == expected_wave &&
                 lanes == ms_lane_sum(N, expected_wave);
  char fields[160];
  snprintf(fields, sizeof fields, "dot=%llu axpy_sum=%llu lanes=%llu", (unsigned long long)dot,
           (unsigned long long)ms_sum(out, N), (unsigned long long)lanes);
  return ms_report("blas", target, wave, fields, ok);
}

int main(int argc, char** argv) { return rship_test_devices("blas", argc, argv, run); }
