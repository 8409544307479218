// One process's membership of a data-parallel world, on libtorch's own c10d: rendezvous through a
// TCPStore (rank 0 hosts it at MASTER_ADDR:MASTER_PORT, as torchrun does), then Gloo (CPU) or
// NCCL (CUDA) collectives. The rendezvous also checks that every rank agrees on the world size
// and on the training configuration (a hash), and a heartbeat in the store lets a failed
// collective name the rank that died or stalled instead of hanging.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <torch/types.h>

#include "core/distributed/collectives_compat.h"

namespace histoscope::distributed {

struct ProcessGroupOptions {
  std::string backend = "gloo";  // gloo (CPU tensors) | nccl (CUDA tensors)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int rank = 0;
  int world_size = 1;
  // NCCL only: the CUDA device this rank drives (LOCAL_RANK).
  int local_rank = 0;
  std::chrono::milliseconds timeout{std::chrono::seconds(300)};
  // Every rank must present the same value, or the rendezvous fails naming the ranks.
  std::string config_hash;
};

// Whether this build can create `backend` ("gloo" | "nccl").
bool backendAvailable(const std::string& backend);

class ProcessGroup {
 public:
  // Blocks until every rank has joined (or throws after the timeout naming the missing ranks).
  static std::shared_ptr<ProcessGroup> create(const ProcessGroupOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return options_.rank; }
  int size() const { return options_.world_size; }
  const ProcessGroupOptions& options() const { return options_; }
  // Where collective tensors live: the CPU for Gloo, cuda:LOCAL_RANK for NCCL.
  c10::Device device() const { return device_; }

  // Sum over ranks, in place. The tensors must be on device().
  void allreduceSum(std::vector<at::Tensor>& tensors);
  c10::intrusive_ptr<CollectiveWork> allreduceSumAsync(std::vector<at::Tensor>& tensors);
  // Waits for `work`; a failure becomes an error that names the rank at fault when it can.
  void wait(const c10::intrusive_ptr<CollectiveWork>& work, const std::string& what);
  // `tensors` get root's values, in place.
  void broadcast(std::vector<at::Tensor>& tensors, int root);
  void barrier();

  // Byte strings of any length: every rank gets each rank's bytes / root's bytes.
  std::vector<std::vector<uint8_t>> allgatherBytes(const std::vector<uint8_t>& bytes);
  std::vector<uint8_t> broadcastBytes(const std::vector<uint8_t>& bytes, int root);

 private:
  ProcessGroup(const ProcessGroupOptions& options, c10::intrusive_ptr<c10d::Store> store,
               c10::intrusive_ptr<CollectiveBackend> backend, c10::Device device);
  void startHeartbeat();
  // Launches a collective and waits for it; failures to launch or to finish are diagnosed alike.
  void complete(const std::string& what, const std::function<c10::intrusive_ptr<CollectiveWork>()>& launch);
  // What went wrong with a failed collective, naming dead or stalled ranks from their heartbeats.
  std::string diagnose(const std::string& what, const std::string& cause);

  ProcessGroupOptions options_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<CollectiveBackend> backend_;
  c10::Device device_;
  std::atomic<bool> stopping_{false};
  std::thread heartbeat_;
};

}  // namespace histoscope::distributed
