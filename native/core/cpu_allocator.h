// A caching CPU allocator for libtorch. Compute runs on threads other than the main one (now the
// one compute thread of binding/compute_thread.h, and its OpenMP team), and glibc gives such
// threads malloc arenas made of 64 MiB heaps that it unmaps as soon as a batch's tensors are freed;
// the next batch then page-faults all of its activations in again. On a 2-core VM that made
// batch-32 inference 6x slower than batch 1 per image (~19k page faults per image; measured when
// compute ran on libuv workers). Keeping freed large blocks for reuse removes the faults; mallopt
// cannot, since arenas exist before we load.
#pragma once

#include <cstddef>

namespace histoscope {

// Makes libtorch's CPU tensors (and oneDNN's scratch memory, which goes through the same
// allocator) use the cache. Idempotent. `max_cached_bytes` bounds the memory kept while unused.
void installCachingCpuAllocator(size_t max_cached_bytes);

// Bytes currently held in the cache, unused (for tests and diagnostics).
size_t cachedCpuBytes();

}  // namespace histoscope
