#include "mathsupport/mathsupport.h"

#include <stdio.h>
#include <string.h>

uint64_t ms_mix(uint64_t x) {
  uint64_t z = x + UINT64_C(0x9e3779b97f4a7c15);
  z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
  return z ^ (z >> 31);
}

void ms_iota(uint64_t* x, uint64_t n, uint64_t start, uint64_t step) {
  for (uint64_t i = 0; i < n; ++i) x[i] = start + i * step;
}

uint64_t ms_sum(const uint64_t* x, uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; ++i) s += x[i];
  return s;
}

uint64_t ms_dot(const uint64_t* x, const uint64_t* y, uint64_t n) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; ++i) s += x[i] * y[i];
  return s;
}

uint64_t ms_mulmod(uint64_t a, uint64_t b, uint64_t m) { return (a % m) * (b % m) % m; }

uint64_t ms_powmod(uint64_t base, uint64_t exponent, uint64_t m) {
  uint64_t result = 1 % m;
  base %= m;
  while (exponent) {
    if (exponent & 1u) result = ms_mulmod(result, base, m);
    base = ms_mulmod(base, base, m);
    exponent >>= 1;
  }
  return result;
}

void ms_ntt(const uint64_t* x, uint64_t n, uint64_t* out) {
  const uint64_t p = MS_NTT_MODULUS;
  const uint64_t w = ms_powmod(MS_NTT_GENERATOR, (p - 1) / n, p);
  for (uint64_t k = 0; k < n; ++k) {
    uint64_t acc = 0;
    for (uint64_t j = 0; j < n; ++j) {
      acc = (acc + ms_mulmod(x[j], ms_powmod(w, j * k, p), p)) % p;
    }
    out[k] = acc;
  }
}

uint64_t ms_lane_sum(uint64_t n, unsigned wave) {
  uint64_t s = 0;
  for (uint64_t i = 0; i < n; ++i) s += i % wave;
  return s;
}

unsigned ms_expected_wave(const char* target) {
  size_t len = strcspn(target, ":");
  if (strncmp(target, "gfx", 3) != 0 || (len != 6 && len != 7)) return 0;
  return len == 6 ? 64u : 32u;
}

int ms_report(const char* tool, const char* target, unsigned wave, const char* fields, int ok) {
  printf("RESULT %s %s wave=%u %s %s\n", tool, target, wave, fields, ok ? "ok" : "FAIL");
  fflush(stdout);
  return ok;
}
