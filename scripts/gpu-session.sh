#!/usr/bin/env bash
# What a GPU machine without Node runs (PyTorch, cmake, ninja and python3 there; the dev session's
# device tool, or a lab server): installs the offline bundle against PyTorch's libtorch (with NCCL
# when pip's nvidia-nccl is there), then the steps, in this order:
#   check  C++ tests on CPU and CUDA, the core benchmark beside PyTorch (scripts/gpu-check.sh)
#   train  a short `histoscope train` on CUDA through the bundle's launcher
#   gpu    bench:gpu (dist/bench/train.js): pipeline vs PyTorch DataLoader vs PyTorch's ceiling
#   dist   bench:dist on CUDA: not distributed vs a world of 1 over NCCL (and N GPUs when there are)
#   web    bench:web with the model on `--device auto`: latency, 16 clients, batch predict
# Each step has a time limit, so that one slow step cannot use up a short lease; the logs of the
# steps done are already in $OUT (or /tmp/histoscope-gpu-logs).
# Usage: bash scripts/gpu-session.sh BUNDLE.tar.xz [STEP...]   (default: all steps)
#   STEP_SECONDS=N overrides every step's limit; TORCH_DIR overrides PyTorch's libtorch.
set -uo pipefail
bundle=$(cd "$(dirname "${1:?give the bundle made by npm run bundle}")" && pwd)/$(basename "$1")
shift
steps=${*:-check train gpu dist web}
for s in $steps; do
  case $s in check|train|gpu|dist|web) ;; *) echo "gpu-session: unknown step \"$s\" (expected check, train, gpu, dist, web)" >&2; exit 2 ;; esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
logs=${OUT:-/tmp/histoscope-gpu-logs}
mkdir -p "$logs"
work=/tmp/histoscope-gpu-session
rm -rf "$work" && mkdir -p "$work"
python=${HISTOSCOPE_PYTHON:-$(command -v python3)}
export HISTOSCOPE_PYTHON=$python
section() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }
wants() { [[ " $steps " == *" $1 "* ]]; }
# timeout's exit code 124 says the step ran out of time; the next step still runs.
limited() { local seconds=${STEP_SECONDS:-$1}; shift; timeout --kill-after=15 "$seconds" "$@"; local rc=$?
  [ $rc -eq 124 ] && echo "(stopped at its limit of $seconds s)"; return $rc; }

section "install the bundle"
tar -xJf "$bundle" -C "$work" || exit 1
home=$(ls -d "$work"/histoscope-*/ | head -1)
# pip's PyTorch keeps nccl.h in the nvidia-nccl package: CMake finds it through NCCL_HOME.
if [ -z "${NCCL_HOME:-}" ]; then
  NCCL_HOME=$("$python" -c 'import nvidia.nccl as n; print(list(n.__path__)[0])' 2>/dev/null) && export NCCL_HOME
fi
export TORCH_DIR=${TORCH_DIR:-$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch}
limited 600 "$home/install.sh" "$work/prefix" > "$logs/install.log" 2>&1 || { tail -30 "$logs/install.log"; exit 1; }
tail -5 "$logs/install.log"
cp "$home/build-addon.log" "$logs/" 2>/dev/null
grep -hE "Histoscope: (libtorch|distributed backend)" "$home/build-addon.log" | sort -u
export PATH=$work/prefix/bin:$PATH

if wants check; then
  section "check: C++ tests on CPU and CUDA, core benchmark"
  (cd "$repo" && limited 420 bash scripts/gpu-check.sh "$work/core-build") > "$logs/gpu-check.log" 2>&1
  grep -E "passed|failed|Error|img/s|implementation|build seconds|stopped at" "$logs/gpu-check.log" | head -40
fi

histoscope synth "$work/data" --patients 30 --images-per-patient 10 --seed 3 --concurrency "$(nproc)" > "$logs/synth.log" 2>&1

if wants train; then
  section "train: histoscope train on CUDA through the launcher"
  limited 240 histoscope train --data "$work/data" --mag 100X --weights none --trainable layer4+fc --batch 256 --precision bf16 \
    --epochs 3 --per-class all --device cuda --runs "$work/runs" --json > "$logs/train.jsonl" 2> "$logs/train.err"
  echo "train exit $?"; grep -E '"epoch-end"|"warning"|"run-end"' "$logs/train.jsonl" | cut -c1-400; tail -3 "$logs/train.err"
fi

if wants gpu; then
  section "gpu: bench:gpu"
  (cd "$home" && limited 360 node/bin/node dist/bench/train.js --device cuda --epochs 3 --data "$work/data" --images 1200 \
    --configs 32:fp32,256:bf16) > "$logs/bench-gpu.log" 2>&1
  grep -v '^{' "$logs/bench-gpu.log"
fi

if wants dist; then
  section "dist: bench:dist on CUDA (NCCL)"
  gpus=$(nvidia-smi -L 2>/dev/null | wc -l)
  (cd "$home" && limited 300 node/bin/node dist/bench/distributed.js --device cuda --images 600 --epochs 3 --rounds 1 \
    --gpus "$([ "$gpus" -gt 1 ] && echo "$gpus" || echo 0)") > "$logs/bench-dist.log" 2>&1
  tail -12 "$logs/bench-dist.log"
fi

if wants web; then
  section "web: bench:web with the model on --device auto"
  (cd "$home" && limited 240 node/bin/node dist/bench/web.js --device auto --requests 30 --images 64 --label gpu) > "$logs/bench-web.log" 2>&1
  grep -E "^[a-zA-Z]+ \{|wrote|device|Error" "$logs/bench-web.log" | head -20
fi
# The benchmarks' JSON (not their data or runs).
mkdir -p "$logs/bench-out"
cp "$home"/bench/out/*.json "$home"/dist/bench/out/*.json "$logs/bench-out/" 2>/dev/null
cp "$home"/dist/bench/out/dist/result.json "$logs/bench-out/dist-result.json" 2>/dev/null
true
