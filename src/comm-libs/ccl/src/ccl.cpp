// ccl: a ring all-reduce (reduce-scatter, then all-gather) over rship memory.
#include "ccl/ccl.h"

#include <cstring>
#include <string>
#include <vector>

#include "fmtlite/fmtlite.hpp"
#include "rship/rship.h"

struct ccl_comm {
  std::vector<int> devices;
  std::vector<std::string> targets;
};

extern "C" {

const char* ccl_version(void) { return "0.3.0"; }

int ccl_comm_init_all(ccl_comm** comm) {
  if (!comm) return rshipErrorInvalidValue;
  int count = 0;
  const rshipError_t error = rshipGetDeviceCount(&count);
  if (error != rshipSuccess) return error;
  auto* created = new ccl_comm;
  for (int d = 0; d < count; ++d) {
    rshipDeviceProp prop;
    rshipGetDeviceProperties(&prop, d);
    created->devices.push_back(d);
    created->targets.emplace_back(prop.name);
  }
  *comm = created;
  return rshipSuccess;
}

void ccl_comm_destroy(ccl_comm* comm) { delete comm; }

int ccl_comm_size(const ccl_comm* comm) {
  return comm ? static_cast<int>(comm->devices.size()) : 0;
}

int ccl_comm_describe(const ccl_comm* comm, char* out, size_t size) {
  if (!comm || !out || size == 0) return rshipErrorInvalidValue;
  const std::string text = "ring(" + fmtlite::join(comm->targets, " -> ") + ")";
  std::strncpy(out, text.c_str(), size - 1);
  out[size - 1] = '\0';
  return rshipSuccess;
}

int ccl_allreduce_sum(ccl_comm* comm, const uint64_t* const* send, uint64_t* const* recv,
                      uint64_t n) {
  if (!comm || !send || !recv) return rshipErrorInvalidValue;
  const std::size_t ranks = comm->devices.size();
  if (ranks == 0) return rshipErrorNoDevice;
  for (std::size_t r = 0; r < ranks; ++r) {
    rshipError_t error = rshipMemcpy(recv[r], send[r], n * sizeof(uint64_t));
    if (error != rshipSuccess) return error;
  }
  // Reduce-scatter: at step s rank r adds its chunk (r - s - 1) into rank r + 1's; chunk c
  // starts at rank c + 1 and, after ranks - 1 steps, is complete on rank c.
  auto chunk = [n, ranks](std::size_t c, uint64_t* begin) {
    const uint64_t lo = n * c / ranks, hi = n * (c + 1) / ranks;
    return std::make_pair(begin + lo, hi - lo);
  };
  std::vector<uint64_t> staging(n ? n : 1);
  for (std::size_t step = 0; step + 1 < ranks; ++step) {
    for (std::size_t r = 0; r < ranks; ++r) {
      const std::size_t c = (r + ranks - step - 1) % ranks;  // chunk rank r passes on
      const std::size_t next = (r + 1) % ranks;
      auto [from, count] = chunk(c, recv[r]);
      auto [into, unused] = chunk(c, recv[next]);
      (void)unused;
      rshipMemcpy(staging.data(), from, count * sizeof(uint64_t));
      for (uint64_t i = 0; i < count; ++i) into[i] += staging[i];
    }
  }
  // All-gather: every rank copies each complete chunk from its owner.
  for (std::size_t c = 0; c < ranks; ++c) {
    const std::size_t owner = c;
    auto [from, count] = chunk(c, recv[owner]);
    for (std::size_t r = 0; r < ranks; ++r) {
      if (r == owner) continue;
      auto [into, unused] = chunk(c, recv[r]);
      (void)unused;
      rshipMemcpy(into, from, count * sizeof(uint64_t));
    }
  }
  return rshipSuccess;
}

}  // extern "C"
