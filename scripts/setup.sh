#!/usr/bin/env bash
# Installs what a fresh Debian 12 machine lacks to build and test Histoscope. Idempotent: it only
# installs packages that are missing. Needs root (or sudo) for apt-get.
set -euo pipefail

# libgloo-dev: headers for c10d's Gloo backend (distributed training on CPUs); the library is in libtorch.
# libopenblas0-openmp: Debian's libtorch calls the system BLAS, whose default is netlib's reference
# code; with one intra-op thread convolutions go through it (ResNet-50 inference 1.0 → 9-10 img/s
# with OpenBLAS on the 2-core dev VM). The OpenMP build shares libtorch's OpenMP threads.
packages=(cmake g++ make libtorch-dev libgloo-dev libopenblas0-openmp python3-torch python3-torchvision)
# Chromium drives the browser test of the web UI; skip it with HISTOSCOPE_NO_BROWSER=1.
if [ "${HISTOSCOPE_NO_BROWSER:-0}" != "1" ]; then packages+=(chromium); fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "setup: installing ${missing[*]}"
  $sudo_cmd apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: system packages already present"
fi

node_version=$(node -p 'process.versions.node' 2>/dev/null || echo none)
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=17)?0:1)' 2>/dev/null \
  || { echo "setup: Node.js >= 20.17 is required (found $node_version)"; exit 1; }
echo "setup: done (Node.js $node_version)"
