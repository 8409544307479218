#include "core/runtime.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

#include "core/cpu_allocator.h"

namespace histoscope {

void configureRuntime(int threads) {
#ifdef __GLIBC__
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
  // Worker threads' malloc arenas ignore the settings above (see cpu_allocator.h); keep up to a
  // quarter of the machine's memory in freed tensor blocks for reuse.
  const long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
  const size_t total = pages > 0 && page_size > 0 ? static_cast<size_t>(pages) * page_size : 0;
  installCachingCpuAllocator(total > 0 ? total / 4 : size_t(4) << 30);
  setThreadCount(threads);
}

namespace {
// What the last setThreadCount asked for: at::get_num_threads() answers for the calling thread's
// OpenMP settings, which differ from the compute thread's when asked from another thread.
std::atomic<int> thread_count{0};
}  // namespace

void setThreadCount(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(threads);
  thread_count = at::get_num_threads();
}

int threadCount() { return thread_count > 0 ? thread_count.load() : at::get_num_threads(); }

bool cudaAvailable() { return torch::cuda::is_available(); }

c10::Device resolveDevice(const std::string& spec) {
  if (spec.empty() || spec == "auto") {
    return cudaAvailable() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  }
  if (spec == "cpu") return c10::Device(c10::kCPU);
  if (spec.rfind("cuda", 0) == 0) {
    if (!cudaAvailable()) {
      throw std::runtime_error("Device '" + spec +
                               "' was requested but CUDA is not available to this libtorch "
                               "build. Use device 'cpu' or 'auto', or build against a CUDA "
                               "libtorch (see README, lab-server build).");
    }
    c10::Device device(spec);
    if (device.has_index() && device.index() >= static_cast<int>(torch::cuda::device_count())) {
      throw std::runtime_error("Device '" + spec + "' does not exist: this machine has " +
                               std::to_string(torch::cuda::device_count()) + " CUDA device(s).");
    }
    return device;
  }
  throw std::runtime_error("Unknown device '" + spec +
                           "'. Expected 'auto', 'cpu', 'cuda' or 'cuda:N'.");
}

std::string libtorchVersion() { return TORCH_VERSION; }

}  // namespace histoscope
