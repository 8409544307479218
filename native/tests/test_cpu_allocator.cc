// The caching CPU allocator (installed by configureRuntime in the test runner, as in the addon):
// freed large blocks are reused instead of going back to the system, small ones are not kept.
#include <thread>

#include <torch/torch.h>

#include "core/cpu_allocator.h"
#include "harness.h"

using namespace histoscope;

TEST_CASE("large CPU tensors reuse freed blocks, across threads") {
  void* first = nullptr;
  {
    auto t = torch::empty({1 << 20}, torch::kFloat32);  // 4 MiB
    first = t.data_ptr();
  }
  const size_t cached = cachedCpuBytes();
  CHECK(cached >= (size_t(4) << 20));
  void* again = nullptr;
  std::thread([&] { again = torch::empty({1 << 20}, torch::kFloat32).data_ptr(); }).join();
  CHECK(again == first);  // the block went back to the cache and came out again
  CHECK(cachedCpuBytes() == cached);
}

TEST_CASE("cached blocks are 64-byte aligned and hold data") {
  auto t = torch::arange(300000, torch::kFloat64);
  CHECK(reinterpret_cast<uintptr_t>(t.data_ptr()) % 64 == 0);
  CHECK(t.sum().item<double>() == 299999.0 * 300000.0 / 2.0);
}
