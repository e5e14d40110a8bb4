/* ccl-test: all-reduce over one rank per device; rank r sends x[i] = (r + 1) i + r. */
#include <stdio.h>
#include <stdlib.h>

#include "ccl/ccl.h"
#include "rship/rship.h"

#define N 257u

int main(void) {
  ccl_comm* comm = NULL;
  int error = ccl_comm_init_all(&comm);
  if (error) {
    printf("RESULT ccl - wave=0 error=%s FAIL\n", rshipGetErrorString((rshipError_t)error));
    return 1;
  }
  const int ranks = ccl_comm_size(comm);
  uint64_t** send = calloc((size_t)ranks, sizeof(uint64_t*));
  uint64_t** recv = calloc((size_t)ranks, sizeof(uint64_t*));
  for (int r = 0; r < ranks; ++r) {
    rshipMalloc((void**)&send[r], N * sizeof(uint64_t));
    rshipMalloc((void**)&recv[r], N * sizeof(uint64_t));
    for (uint64_t i = 0; i < N; ++i) send[r][i] = (uint64_t)(r + 1) * i + (uint64_t)r;
  }
  error = ccl_allreduce_sum(comm, (const uint64_t* const*)send, recv, N);
  int ok = error == 0;
  uint64_t total = 0;
  for (int r = 0; r < ranks && ok; ++r) {
    for (uint64_t i = 0; i < N; ++i) {
      uint64_t expected = 0;
      for (int q = 0; q < ranks; ++q) expected += (uint64_t)(q + 1) * i + (uint64_t)q;
      ok = ok && recv[r][i] == expected;
      if (r == 0) total += recv[r][i];
    }
  }
  char ring[512];
  ccl_comm_describe(comm, ring, sizeof ring);
  printf("%s\n", ring);
  printf("RESULT ccl all wave=0 ranks=%d sum=%llu %s\n", ranks, (unsigned long long)total,
         ok ? "ok" : "FAIL");
  for (int r = 0; r < ranks; ++r) {
    rshipFree(send[r]);
    rshipFree(recv[r]);
  }
  free(send);
  free(recv);
  ccl_comm_destroy(comm);
  return ok ? 0 : 1;
}
