#!/usr/bin/env bash
# `npm run bundle [-- --node PATH] [--out FILE]`: one .tar.xz for lab servers that are offline and
# have no Node. It holds a Node binary, the production node_modules (sharp with its libvips,
# cmake-js, node-api-headers), the compiled JS, the native sources and install.sh, which builds the
# addon there against the server's own libtorch. The bundle is for this machine's OS and CPU
# (sharp's prebuilt libvips and the Node binary are platform-specific).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd -P)
die() { printf 'bundle: %s\n' "$*" >&2; exit 1; }

node=${npm_node_execpath:-$(command -v node || true)}
out=
while [ $# -gt 0 ]; do
  case $1 in
    --node) node=${2:?--node expects a path to a Node binary}; shift 2 ;;
    --out) out=${2:?--out expects a file name}; shift 2 ;;
    -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument \"$1\" (expected --node PATH or --out FILE)" ;;
  esac
done

[ -n "$node" ] && [ -x "$node" ] || die "no Node binary at \"$node\"; pass --node PATH"
node=$(readlink -f "$node")
node_version=$("$node" -p 'process.versions.node' 2>/dev/null) || die "$node does not run on this machine"
"$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=17)?0:1)' \
  || die "Node $node_version at $node is too old: cmake-js 8 needs >= 20.17"
# Distribution packages (Debian's nodejs) link libnode/libuv/libicu that a server may not have.
if command -v ldd >/dev/null && ldd "$node" | grep -Eq 'libnode|libuv|libicu|libssl|libcrypto'; then
  die "$node links shared libraries a server may lack ($(ldd "$node" | grep -Eo 'lib(node|uv|icu[a-z]*|ssl|crypto)[^ ]*' | tr '\n' ' ')); pass --node with an official nodejs.org binary"
fi
platform=$("$node" -p 'process.platform + "-" + process.arch')
version=$("$node" -p "require('$repo/package.json').version")
name=histoscope-$version-$platform
out=${out:-$repo/dist/$name.tar.xz}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd -P)/$(basename "$out")

work=$(mktemp -d "${TMPDIR:-/tmp}/histoscope-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT
stage=$work/$name
mkdir -p "$stage/node/bin"
start=$(date +%s)

echo "bundle: Node $node_version ($platform) from $node"
cp "$node" "$stage/node/bin/node"

# The compiled JS: src/ and bench/ (bench's Python references sit beside their JS), no source maps.
cat > "$work/tsconfig.json" <<EOF
{
  "extends": "$repo/tsconfig.json",
  "compilerOptions": { "rootDir": "$repo", "outDir": "$stage/dist", "sourceMap": false, "typeRoots": ["$repo/node_modules/@types"] },
  "include": ["$repo/src", "$repo/bench"]
}
EOF
echo "bundle: compiling TypeScript"
"$repo/node_modules/.bin/tsc" -p "$work/tsconfig.json" || die "TypeScript does not compile; fix it before bundling"
find "$repo/bench" -maxdepth 1 -type f ! -name '*.ts' -exec cp {} "$stage/dist/bench/" \;

# Sources the launcher, the addon build and the web UI need, plus bench/ and scripts/ as they are.
(cd "$repo" && cp -R --parents package.json package-lock.json README.md CMakeLists.txt bin native views bench scripts \
  models/README.md "$stage/")
# Benchmark outputs (data sets, runs, checkpoints: gigabytes after a bench:dist) are not sources.
rm -rf "$stage/bench/out"
cp "$repo/scripts/bundle-install.sh" "$stage/install.sh"
chmod +x "$stage/install.sh"

# Production dependencies exactly as locked (npm ci --omit=dev), from npm's cache when it has them.
# Scripts stay off: the root's `install` would build the addon here, and sharp ships prebuilt.
echo "bundle: production node_modules (npm ci --omit=dev)"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error) \
  || die "npm ci --omit=dev failed in $stage"
for pkg in cmake-js node-api-headers node-addon-api sharp; do
  [ -d "$stage/node_modules/$pkg" ] || die "node_modules/$pkg is missing from the production install"
done

echo "bundle: compressing (xz -T0 -6)"
tar -C "$work" --owner=0 --group=0 --numeric-owner -cf - "$name" | xz -T0 -6 > "$out.tmp"
mv "$out.tmp" "$out"
bytes=$(stat -c %s "$out")
echo "bundle: wrote $out ($(( (bytes + 524288) / 1048576 )) MB, $(( $(date +%s) - start )) s)"
echo "bundle: on the server: tar -xJf $(basename "$out") && cd $name && ./install.sh   (TORCH_DIR=... to choose a libtorch)"
