// All tensor work of the process runs on one long-lived thread. Each thread that enters libtorch
// gets its own OpenMP team; teams left spinning after a call then compete with the next call's
// team for the cores (batch-1 inference was ~15% slower when libuv's pool threads ran the work).
// Tasks are queued here straight from the JS thread, so no libuv pool thread waits on tensor
// work: the pool stays free for sharp's decodes and file I/O.
#pragma once

#include <functional>

namespace histoscope::binding {

// Queues `task` to run on the compute thread after those queued before it; returns at once.
// `task` must not throw: it reports failure through its own result.
void postToComputeThread(std::function<void()> task);

}  // namespace histoscope::binding
