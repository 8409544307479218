#!/usr/bin/env bash
# What a GPU machine without Node runs (PyTorch, cmake, ninja and python3 there; the dev session's
# device tool, or a lab server): installs the offline bundle against PyTorch's libtorch, runs the
# C++ tests on CUDA (scripts/gpu-check.sh), a short `histoscope train` on CUDA through the bundle's
# launcher, and bench:gpu (bench/train.ts compiled) beside PyTorch and its ceiling. Logs go to $OUT
# (or /tmp/histoscope-gpu-logs).
# Usage: bash scripts/gpu-session.sh BUNDLE.tar.xz
set -uo pipefail
bundle=$(cd "$(dirname "${1:?give the bundle made by npm run bundle}")" && pwd)/$(basename "$1")
repo=$(cd "$(dirname "$0")/.." && pwd)
logs=${OUT:-/tmp/histoscope-gpu-logs}
mkdir -p "$logs"
work=/tmp/histoscope-gpu-session
rm -rf "$work" && mkdir -p "$work"
python=${HISTOSCOPE_PYTHON:-$(command -v python3)}
export HISTOSCOPE_PYTHON=$python
section() { printf '\n== %s (%s)\n' "$*" "$(date +%T)"; }

section "install the bundle"
tar -xJf "$bundle" -C "$work" || exit 1
home=$(ls -d "$work"/histoscope-*/ | head -1)
TORCH_DIR=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch \
  "$home/install.sh" "$work/prefix" > "$logs/install.log" 2>&1 || { tail -30 "$logs/install.log"; exit 1; }
tail -5 "$logs/install.log"
export PATH=$work/prefix/bin:$PATH

section "C++ tests on CPU and CUDA, core benchmark"
(cd "$repo" && bash scripts/gpu-check.sh "$work/core-build") > "$logs/gpu-check.log" 2>&1
grep -E "passed|failed|Error|img/s|implementation|build seconds" "$logs/gpu-check.log" | head -40

section "histoscope train on CUDA through the launcher"
histoscope synth "$work/data" --patients 30 --images-per-patient 10 --seed 3 --concurrency "$(nproc)" > "$logs/synth.log" 2>&1
histoscope train --data "$work/data" --mag 100X --weights none --trainable layer4+fc --batch 256 --precision bf16 \
  --epochs 3 --per-class all --device cuda --runs "$work/runs" --json > "$logs/train.jsonl" 2> "$logs/train.err"
echo "train exit $?"; grep -E '"epoch-end"|"warning"|"run-end"' "$logs/train.jsonl" | cut -c1-400; tail -3 "$logs/train.err"

section "bench:gpu"
(cd "$home" && node/bin/node dist/bench/train.js --device cuda --epochs 3 --data "$work/data" --images 1200 \
  --configs 32:fp32,256:bf16) > "$logs/bench-gpu.log" 2>&1
grep -v '^{' "$logs/bench-gpu.log"
cp "$home"/bench/out/*.json "$logs/" 2>/dev/null || true
