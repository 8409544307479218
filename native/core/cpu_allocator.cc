#include "core/cpu_allocator.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <torch/version.h>

namespace histoscope {
namespace {

constexpr size_t kAlignment = 64;           // what libtorch's own CPU allocator guarantees
constexpr size_t kMinCachedBytes = 1 << 16;  // smaller blocks are glibc's business
constexpr size_t kGranule = 1 << 12;         // sizes are rounded up to pages to match more often

class BlockCache {
 public:
  void* take(size_t bytes) {
    const size_t size = roundedSize(bytes);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto found = free_.find(size);
      if (found != free_.end() && !found->second.empty()) {
        void* block = found->second.back();
        found->second.pop_back();
        cached_ -= size;
        live_[block] = size;
        return block;
      }
    }
    void* block = nullptr;
    if (posix_memalign(&block, kAlignment, size) != 0 || !block) throw std::bad_alloc();
    std::lock_guard<std::mutex> lock(mutex_);
    live_[block] = size;
    return block;
  }

  void give(void* block) {
    if (!block) return;
    std::unique_lock<std::mutex> lock(mutex_);
    auto found = live_.find(block);
    const size_t size = found == live_.end() ? 0 : found->second;
    if (found != live_.end()) live_.erase(found);
    if (size >= kMinCachedBytes && cached_ + size <= max_cached_) {
      free_[size].push_back(block);
      cached_ += size;
      return;
    }
    lock.unlock();
    std::free(block);
  }

  size_t cached() {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

  void setLimit(size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    max_cached_ = bytes;
  }

 private:
  static size_t roundedSize(size_t bytes) {
    if (bytes < kMinCachedBytes) return bytes == 0 ? kAlignment : bytes;
    return (bytes + kGranule - 1) / kGranule * kGranule;
  }

  std::mutex mutex_;
  std::unordered_map<size_t, std::vector<void*>> free_;
  std::unordered_map<void*, size_t> live_;
  size_t cached_ = 0;
  size_t max_cached_ = 0;
};

// Never destroyed: tensors may be freed during static destruction, after any destructor ran.
BlockCache& cache() {
  static BlockCache* instance = new BlockCache();
  return *instance;
}

void releaseBlock(void* block) { cache().give(block); }

// The Allocator interface gained a non-const allocate() and a copy_data() in libtorch 2.3.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
#define HISTOSCOPE_ALLOCATE_CONST
#define HISTOSCOPE_ALLOCATOR_HAS_COPY_DATA 1
#else
#define HISTOSCOPE_ALLOCATE_CONST const
#define HISTOSCOPE_ALLOCATOR_HAS_COPY_DATA 0
#endif

class CachingCpuAllocator final : public c10::Allocator {
 public:
  c10::DataPtr allocate(size_t bytes) HISTOSCOPE_ALLOCATE_CONST override {
    void* block = cache().take(bytes);
    return {block, block, &releaseBlock, c10::Device(c10::DeviceType::CPU)};
  }
  c10::DeleterFnPtr raw_deleter() const override { return &releaseBlock; }
#if HISTOSCOPE_ALLOCATOR_HAS_COPY_DATA
  void copy_data(void* dest, const void* src, std::size_t count) const override {
    std::memcpy(dest, src, count);
  }
#endif
};

}  // namespace

void installCachingCpuAllocator(size_t max_cached_bytes) {
  static CachingCpuAllocator* allocator = new CachingCpuAllocator();
  cache().setLimit(max_cached_bytes);
  // Priority above libtorch's default registration (0), so later defaults do not replace it.
  c10::SetCPUAllocator(allocator, /*priority=*/1);
}

size_t cachedCpuBytes() { return cache().cached(); }

}  // namespace histoscope
