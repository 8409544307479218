#!/usr/bin/env bash
# On a CUDA machine with PyTorch installed (a lab server, or the GPU machine of a dev session):
# builds the native core against that PyTorch's libtorch, runs the C++ tests on CPU and on CUDA,
# and the core benchmark beside the PyTorch reference (bench/reference.py). Needs no Node.
# Usage: bash scripts/gpu-check.sh [build-dir]    (logs also go to $OUT when it is set)
set -uo pipefail
build=${1:-/tmp/histoscope-gpu-build}
python=${HISTOSCOPE_PYTHON:-$(command -v python3)}
export HISTOSCOPE_PYTHON=$python
export PATH=/usr/local/cuda/bin:$PATH
section() { printf '\n== %s\n' "$*"; }

section "machine"
nvidia-smi -L || true
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name())'
nproc

section "configure and build (libtorch from $python)"
torch_dir=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch
generator=(); command -v ninja >/dev/null && generator=(-G Ninja)
start=$(date +%s)
cmake -S . -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DTorch_DIR="$torch_dir" \
  -DHISTOSCOPE_BUILD_BENCH=ON -DCMAKE_CUDA_ARCHITECTURES=native > "$build.configure.log" 2>&1 \
  || { tail -40 "$build.configure.log"; exit 1; }
grep -E "Histoscope: libtorch" "$build.configure.log"
cmake --build "$build" -j "$(nproc)" 2>&1 | grep -E "error|warning: |Linking" ; echo "build seconds: $(( $(date +%s) - start ))"
[ -x "$build/histoscope_native_tests" ] || { echo "build failed"; exit 1; }

section "C++ tests on CPU"
"$build/histoscope_native_tests" | tail -4
section "C++ tests on CUDA"
HISTOSCOPE_TEST_DEVICE=cuda "$build/histoscope_native_tests"

section "benchmark: Histoscope core vs PyTorch (Python), same recipe"
for device in cuda cpu; do
  for precision in fp32 bf16; do
    iterations=20; [ "$device" = cpu ] && iterations=3
    "$build/histoscope_native_bench" "$device" "$precision" "$iterations"
    "$python" bench/reference.py --device "$device" --precision "$precision" --iterations "$iterations" \
      --threads "$(nproc)" | sed "s/^{/{\"device\": \"$device\", \"precision\": \"$precision\", /"
  done
done
