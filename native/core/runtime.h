// Process-wide runtime settings: thread count, allocator tuning, device selection.
#pragma once

#include <string>

#include <c10/core/Device.h>

namespace histoscope {

// Applied once when the addon (or a test binary) starts. glibc's default malloc serves large
// tensors from fresh memory maps and returns them on free, so every batch page-faults its
// activations in again; keeping freed memory in the heap made training and inference 1.3-1.65x
// faster on a 2-core VM; the caching CPU allocator does the same for worker threads (see
// cpu_allocator.h). `threads` <= 0 means all hardware threads (libtorch may start with 1).
void configureRuntime(int threads);

// Intra-op threads of the calling thread (and of threads that start libtorch work later). Call it
// on the thread that runs the tensor work: an OpenMP thread keeps the count it first started with.
void setThreadCount(int threads);
// The count last set (by configureRuntime or setThreadCount).
int threadCount();
bool cudaAvailable();

// "auto" -> CUDA when available, else CPU; "cpu"; "cuda" or "cuda:N". Throws a clear message
// when CUDA is asked for but not there.
c10::Device resolveDevice(const std::string& spec);

std::string libtorchVersion();

}  // namespace histoscope
