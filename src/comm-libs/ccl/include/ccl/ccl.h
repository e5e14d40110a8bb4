/* ccl: collectives across devices. Functions return an rshipError_t value. */
#ifndef CCL_CCL_H
#define CCL_CCL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ccl_comm ccl_comm;

const char* ccl_version(void);
/* A communicator with one rank per visible device, in device order. */
int ccl_comm_init_all(ccl_comm** comm);
void ccl_comm_destroy(ccl_comm* comm);
int ccl_comm_size(const ccl_comm* comm);
/* "ring(gfx1100 -> gfx942 -> ...)" into `out`. */
int ccl_comm_describe(const ccl_comm* comm, char* out, size_t size);
/* recv[r][i] = sum over ranks q of send[q][i], for every rank r. */
int ccl_allreduce_sum(ccl_comm* comm, const uint64_t* const* send, uint64_t* const* recv,
                      uint64_t n);

#ifdef __cplusplus
}
#endif

#endif
