#!/usr/bin/env bash
# `npm run test:bundle`: the lab-server bundle end to end, as on an offline server without Node.
# Makes the bundle, unpacks it into a clean folder, checks install.sh's error messages, installs it
# with a PATH that has no node (and no network, where `unshare -n` is allowed), then runs synth,
# train, promote and predict through the `histoscope` launcher. The addon compiles in it (minutes),
# so it is not part of `npm test`; CI runs it after. KEEP=1 keeps the work folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d "${TMPDIR:-/tmp}/histoscope-test-bundle.XXXXXX")
if [ "${KEEP:-0}" = 1 ]; then echo "test:bundle: work folder $work"; else trap 'rm -rf "$work"' EXIT; fi
fail() { echo "test:bundle: FAIL: $*" >&2; exit 1; }
ok() { echo "test:bundle: ok - $*"; }
now() { date +%s; }

# --- make it -----------------------------------------------------------------------------------
t=$(now)
# A benchmark's output left in bench/out must not travel (a bench:dist leaves gigabytes there).
probe=bench/out/bundle-probe-$$
mkdir -p bench/out && echo probe > "$probe"
nice -n 10 npm run --silent bundle -- --out "$work/histoscope.tar.xz"
rm -f "$probe"
bundle_s=$(( $(now) - t ))
bytes=$(stat -c %s "$work/histoscope.tar.xz")
mb=$(( (bytes + 524288) / 1048576 ))
[ "$bytes" -le $(( 60 * 1048576 )) ] || fail "the bundle is $mb MB, over 60 MB"
ok "bundle made in $bundle_s s, $mb MB (limit 60)"

mkdir "$work/server"
tar -C "$work/server" -xJf "$work/histoscope.tar.xz"
app=$(echo "$work"/server/histoscope-*)
for f in install.sh node/bin/node bin/histoscope.js dist/src/cli.js CMakeLists.txt native/binding bench scripts views \
  node_modules/cmake-js node_modules/node-api-headers node_modules/node-addon-api node_modules/sharp; do
  [ -e "$app/$f" ] || fail "the bundle lacks $f"
done
compgen -G "$app/node_modules/@img/sharp-libvips-*" >/dev/null || fail "the bundle lacks sharp's libvips"
[ ! -e "$app/bench/out" ] || fail "the bundle holds bench/out (benchmark outputs)"
for dev in typescript mocha tsx eslint; do [ ! -e "$app/node_modules/$dev" ] || fail "the bundle holds the devDependency $dev"; done
ok "the bundle holds node, production node_modules (sharp + libvips, cmake-js), dist/, native sources, bench/, install.sh"

# --- a PATH with the build tools and no node ---------------------------------------------------
tools=$work/tools
mkdir "$tools"
for t in sh bash env cat cp mv rm mkdir ln chmod dirname basename readlink date uname nproc grep sed head tail tee tr \
  mktemp sort cut wc cmake c++ g++ gcc cc cpp as ld ar ranlib nm objdump strip make tar xz python3; do
  p=$(command -v "$t") || fail "this machine lacks $t"
  ln -s "$(readlink -f "$p")" "$tools/$t"
done
for n in node npm npx; do ! PATH=$tools command -v "$n" >/dev/null || fail "$n is on the test PATH"; done
ok "test PATH ($tools) has cmake, g++, make, tar, xz, sh and no node/npm"

net=()
if unshare -n true 2>/dev/null; then net=(unshare -n); elif unshare -rn true 2>/dev/null; then net=(unshare -rn); fi
[ ${#net[@]} -gt 0 ] && ok "commands below run without network (${net[*]})" || echo "test:bundle: note: unshare is not allowed here; network not cut"
mkdir -p "$work/home" "$work/job"
# Niced, in a clean environment: only HOME, PATH and, when the caller chose one, TORCH_DIR / HISTOSCOPE_PYTHON.
on_server() { # PATH, then the command
  local path=$1; shift
  (cd "$work/job" && nice -n 10 "${net[@]}" env -i HOME="$work/home" PATH="$path" LANG=C.UTF-8 \
    ${TORCH_DIR:+"TORCH_DIR=$TORCH_DIR"} ${HISTOSCOPE_PYTHON:+"HISTOSCOPE_PYTHON=$HISTOSCOPE_PYTHON"} "$@")
}

# --- install.sh's errors name their fix ----------------------------------------------------------
expect_error() { # name, PATH, message; TORCH_DIR may be set by the caller
  local name=$1 path=$2 message=$3 out
  if out=$(on_server "$path" sh "$app/install.sh" "$work/prefix" 2>&1); then fail "install.sh succeeded $name"; fi
  grep -qF -- "$message" <<<"$out" || fail "install.sh $name said: $out"
  [ ! -e "$work/prefix/bin/histoscope" ] || fail "install.sh $name still wrote a launcher"
  ok "install.sh $name: $(grep -F 'error:' <<<"$out" | head -1)"
}
without() { # a copy of the tool folder without the named tools
  local dir=$work/without-$1
  cp -a "$tools" "$dir"
  for t in "$@"; do rm -f "$dir/$t"; done
  echo "$dir"
}
expect_error "without cmake" "$(without cmake)" "sudo apt-get install cmake"
expect_error "without a compiler" "$(without c++ g++ gcc cc cpp)" "sudo apt-get install g++"
TORCH_DIR=$work/nowhere expect_error "with a wrong TORCH_DIR" "$tools" "holds no TorchConfig.cmake"

# --- install -----------------------------------------------------------------------------------
t=$(now)
on_server "$tools" sh "$app/install.sh" "$work/prefix" | tee "$work/install.log"
install_s=$(( $(now) - t ))
[ -x "$work/prefix/bin/histoscope" ] || fail "install.sh wrote no launcher"
ok "install.sh built the addon and wrote the launcher in $install_s s"

# Again, with libtorch found through a Python's torch.utils.cmake_prefix_path: same libtorch, no rebuild.
torch_dir=$(sed -n 's/^install.sh: libtorch from [^:]*: //p' "$work/install.log")
printf '#!/bin/sh\necho "%s"\n' "$(dirname "$torch_dir")" > "$work/fake-python"
chmod +x "$work/fake-python"
out=$(HISTOSCOPE_PYTHON=$work/fake-python on_server "$tools" sh "$app/install.sh" "$work/prefix" 2>&1) || fail "reinstall: $out"
grep -qF "libtorch from the PyTorch of $work/fake-python: $torch_dir" <<<"$out" || fail "reinstall did not use the Python's libtorch: $out"
! grep -q "Building CXX" "$app/build-addon.log" || fail "reinstall with the same libtorch compiled again"
ok "install.sh again, libtorch from a Python's cmake_prefix_path: nothing recompiled"

# --- run it with the launcher --------------------------------------------------------------------
run_path=$work/prefix/bin:$tools
on_server "$run_path" histoscope --help | grep -q "train" || fail "histoscope --help does not list train"
t=$(now)
on_server "$run_path" histoscope synth data --patients 12 --images-per-patient 3 --size 96x64 --seed 3
on_server "$run_path" histoscope train --data data --mag 100X --weights none --image-size 32 --epochs 1 --batch 8 \
  --device cpu --runs runs
run=$(echo "$work"/job/runs/*)
[ -f "$run/best.pt" ] && [ -f "$run/metrics.json" ] || fail "train left no best.pt/metrics.json in $run"
on_server "$run_path" histoscope promote "$run" --models models
image=$(find "$work/job/data" -name '*-100-001.png' | sort | head -1)
on_server "$run_path" histoscope predict "$image" --mag 100X --models models --out preds.csv
grep -Eq "$(basename "$image").*(benign|malignant)" "$work/job/preds.csv" || fail "predict wrote: $(cat "$work/job/preds.csv")"
run_s=$(( $(now) - t ))
ok "histoscope synth, train (1 epoch), promote and predict ran from the launcher without node in $run_s s"
echo "test:bundle: passed (bundle $mb MB in $bundle_s s; install $install_s s; synth+train+predict $run_s s)"
