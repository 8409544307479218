// All tensor work of the process runs on one long-lived thread. libuv's pool has several threads,
// and each thread that enters libtorch gets its own OpenMP team; teams left spinning after a call
// then compete with the next call's team for the cores (batch-1 inference was ~15% slower).
// A worker thread of the pool hands its task here and waits, so JS still never blocks.
#pragma once

#include <functional>

namespace histoscope::binding {

// Runs `task` on the compute thread and returns when it is done; rethrows what it threw.
void runOnComputeThread(const std::function<void()>& task);

}  // namespace histoscope::binding
