#!/usr/bin/env bash
# What tuna-setup sees on a GPU machine, in one short run: the one-file CLI
# (dist/cli/tuna-setup.mjs) and a Node runtime are all it needs — no npm, no
# node_modules, no network (everything offline). Prints doctor and resolve
# (pytorch/pytorch, NGC and nvidia/cuda sources, and aarch64 when the machine
# is one) as JSON lines into OUT (default ./device-check), each file a fixture.
#   scripts/device-check.sh [NODE] [CLI] [OUT]
#   NODE: a node binary, or a node-v20+-linux-*.tar.xz to unpack (default: node on PATH)
set -uo pipefail
node=${1:-node}
cli=${2:-$(dirname "$0")/../dist/cli/tuna-setup.mjs}
out=${3:-./device-check}
mkdir -p "$out"
if [[ "$node" == *.tar.xz || "$node" == *.tar.gz ]]; then
  tmp=$(mktemp -d)
  tar -xf "$node" -C "$tmp" --strip-components=1
  node="$tmp/bin/node"
fi
export TUNA_SETUP_OFFLINE=1
run() { # name, args...
  local name=$1; shift
  echo "== $name: tuna-setup $*"
  "$node" "$cli" "$@" --json > "$out/$name.json" 2> "$out/$name.stderr"
  echo "exit $?"; cat "$out/$name.json"; echo
}
{
  echo "date: $(date -u +%FT%TZ)"; uname -a
  nvidia-smi --query-gpu=driver_version,name,compute_cap,memory.total --format=csv,noheader 2>&1 | head -16
  nvidia-smi -q 2>/dev/null | grep -m 16 'Product Brand'
  cat /proc/driver/nvidia/version 2>/dev/null
} | tee "$out/machine.txt"
run doctor doctor
run resolve resolve --torch latest
run resolve-2.7 resolve --torch 2.7
run resolve-ngc resolve --source ngc
run resolve-cuda resolve --source cuda
run resolve-python312 resolve --python 3.12 --torch 2.14
