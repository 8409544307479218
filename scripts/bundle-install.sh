#!/bin/sh
# install.sh of the Histoscope bundle (written by `npm run bundle` from scripts/bundle-install.sh).
# Builds the native addon here, offline, against this server's libtorch, with the bundled Node,
# and writes a `histoscope` launcher into PREFIX/bin. Needs cmake >= 3.18, a C++17 compiler and
# make (or ninja); no network and no system Node.
#
# Usage: [TORCH_DIR=/path/to/share/cmake/Torch] ./install.sh [PREFIX]     (PREFIX: ~/.local)
# libtorch, first found: TORCH_DIR; the PyTorch of python3 (or $HISTOSCOPE_PYTHON);
# the system's (Debian's libtorch-dev). Keep this folder where it is: the launcher runs from it.
set -eu
here=$(cd "$(dirname "$0")" && pwd -P)
prefix=${1:-${HOME:?set HOME or give a PREFIX}/.local}
node=$here/node/bin/node
say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
start=$(date +%s)

"$node" -v >/dev/null 2>&1 || die "the bundled Node ($node) does not run on this machine ($(uname -sm)); make the bundle on a machine of the same OS and CPU."

# --- build tools -------------------------------------------------------------------------------
command -v cmake >/dev/null 2>&1 \
  || die "cmake not found. Install cmake >= 3.18 (Debian/Ubuntu: sudo apt-get install cmake; RHEL: sudo dnf install cmake; or pip install cmake) and run ./install.sh again."
cmake_version=$(cmake --version | sed -n '1s/[^0-9]*\([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')
case $cmake_version in
  [0-2].*|3.[0-9]|3.1[0-7]) die "cmake $cmake_version is too old; install cmake >= 3.18 (pip install cmake gives a recent one) and run ./install.sh again." ;;
esac
cxx=${CXX:-}
if [ -z "$cxx" ]; then
  for c in c++ g++ clang++; do command -v "$c" >/dev/null 2>&1 && { cxx=$c; break; }; done
fi
[ -n "$cxx" ] && command -v "$cxx" >/dev/null 2>&1 \
  || die "no C++ compiler found. Install g++ (Debian/Ubuntu: sudo apt-get install g++; RHEL: sudo dnf install gcc-c++) or set CXX, and run ./install.sh again."
probe=$(mktemp "${TMPDIR:-/tmp}/histoscope-probe.XXXXXX")
printf '#include <optional>\nint main() { std::optional<int> x; return x.value_or(0); }\n' \
  | "$cxx" -std=c++17 -x c++ - -o "$probe" >/dev/null 2>&1 \
  || { rm -f "$probe"; die "$cxx cannot compile C++17 (is libstdc++'s development package installed? Debian/Ubuntu: sudo apt-get install g++)."; }
rm -f "$probe"
command -v make >/dev/null 2>&1 || command -v ninja >/dev/null 2>&1 \
  || die "neither make nor ninja found. Install make (Debian/Ubuntu: sudo apt-get install make) and run ./install.sh again."

# --- libtorch ----------------------------------------------------------------------------------
torch_config() { # prints the folder holding TorchConfig.cmake among $1, $1/Torch, $1/share/cmake/Torch
  for d in "$1" "$1/Torch" "$1/share/cmake/Torch"; do
    [ -f "$d/TorchConfig.cmake" ] && { (cd "$d" && pwd -P); return 0; }
  done
  return 1
}
python=${HISTOSCOPE_PYTHON:-python3}
if [ -n "${TORCH_DIR:-}" ]; then
  torch_dir=$(torch_config "$TORCH_DIR") \
    || die "TORCH_DIR=$TORCH_DIR holds no TorchConfig.cmake. Point it at libtorch's share/cmake/Torch: for PyTorch, \$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch; for the libtorch zip, libtorch/share/cmake/Torch."
  torch_source="TORCH_DIR"
elif prefix_path=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null) \
    && torch_dir=$(torch_config "$prefix_path"); then
  torch_source="the PyTorch of $python"
else
  torch_dir=
  for d in /usr/lib/*-linux-gnu/cmake/Torch /usr/lib64/cmake/Torch /usr/lib/cmake/Torch /usr/local/share/cmake/Torch /usr/share/cmake/Torch; do
    torch_dir=$(torch_config "$d") && break
  done
  [ -n "$torch_dir" ] \
    || die "no libtorch found. Set TORCH_DIR=/path/to/share/cmake/Torch (for PyTorch: \$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')/Torch), install PyTorch for $python (pip install torch), or install Debian's libtorch-dev (sudo apt-get install libtorch-dev); then run ./install.sh again."
  torch_source="the system"
fi
say "libtorch from $torch_source: $torch_dir"

# CUDA builds of libtorch look for the CUDA toolkit when CMake loads them; `native` needs a GPU.
cuda_flags=
if [ -d /usr/local/cuda/bin ]; then PATH=/usr/local/cuda/bin:$PATH; fi
if command -v nvcc >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then
  case $cmake_version in 3.1[89]|3.2[0-3]) ;; *) cuda_flags=--CDCMAKE_CUDA_ARCHITECTURES=native ;; esac
fi

# --- the addon ---------------------------------------------------------------------------------
cd "$here"
# A build made in another folder or against another libtorch would mislead CMake: start afresh.
stamp="folder $here, libtorch $torch_dir"
if [ -d build ] && [ "$(cat build/install-stamp 2>/dev/null)" != "$stamp" ]; then rm -rf build; fi
mkdir -p build && echo "$stamp" > build/install-stamp
jobs=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc 2>/dev/null || echo 2)}
log=$here/build-addon.log
say "building the addon with $cxx and $jobs jobs (several minutes; log: $log)"
# CMakeLists.txt asks `node` where node-addon-api is: the bundled one comes first on PATH.
status=$( { { PATH=$here/node/bin:$PATH TORCH_DIR=$torch_dir CXX=$cxx \
  "$node" node_modules/cmake-js/bin/cmake-js compile --CDCMAKE_BUILD_TYPE=Release --CDHISTOSCOPE_BUILD_TESTS=OFF \
  $cuda_flags --parallel "$jobs" 2>&1 && echo "exit 0" >&3 || echo "exit $?" >&3; } \
  | tee "$log" | { grep -E '^\[ *[0-9]+%\]|^\[[0-9]+/[0-9]+\]' >&2 || true; }; } 3>&1 )
if [ "$status" != "exit 0" ] || [ ! -f build/Release/histoscope.node ]; then
  tail -n 30 "$log" >&2
  die "the addon build failed ($status; the log's last lines are above, all of it in $log)."
fi
check=$("$node" -e '
  const n = require(process.argv[1]);
  console.log(`libtorch ${n.libtorchVersion()}, CUDA ${n.cudaAvailable() ? "available" : "not available"}`);
' "$here/dist/src/native.js") || die "the addon was built but does not load; see $log."
say "built build/Release/histoscope.node: $check"

# --- the launcher ------------------------------------------------------------------------------
mkdir -p "$prefix/bin"
launcher=$prefix/bin/histoscope
cat > "$launcher.tmp" <<EOF
#!/bin/sh
# Histoscope launcher written by $here/install.sh: the bundled Node runs the bundled CLI.
exec "$node" "$here/bin/histoscope.js" "\$@"
EOF
chmod +x "$launcher.tmp"
mv "$launcher.tmp" "$launcher"
say "wrote the launcher $launcher (Node $("$node" -v), app in $here)"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) say "$prefix/bin is not on PATH: add  export PATH=\"$prefix/bin:\$PATH\"  to ~/.profile" ;;
esac
say "done in $(( $(date +%s) - start )) s. Try: histoscope --help"
