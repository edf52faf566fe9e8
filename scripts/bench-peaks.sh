#!/usr/bin/env bash
# Peak search per image, single thread: lauekit next to LaueTools 3.2.19 PeakSearch on the same images and
# settings (../shared/data/real/*/peaksearch.json), in one run. Reading the file is included on both sides.
# Usage: scripts/bench-peaks.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/../shared/data/real"
venv=${1:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for spec in Ge_blanc/Ge_blanc_0000.mccd:MARCCD165 Ge_sCMOS/img_Ge_sCMOS_0000.tif:sCMOS GaN_Si/nw1_0000.tif:sCMOS \
    CdTe/CdTe_I999_03Jul06_0200.mccd:MARCCD165; do
  img="$data/${spec%%:*}"; ccd=${spec##*:}; params="$(dirname "$img")/peaksearch.json"
  ours=$(RAYON_NUM_THREADS=1 "$bin" bench peaks --image "$img" --params "$params" --seconds 3)
  theirs=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$here/../shared/tools/lauetools/peaksearch.py" \
           "$img" --ccd "$ccd" --params "$params" --repeat 5)
  t_ours=$(sed 's/.*median_s=\([0-9.]*\).*/\1/' <<<"$ours")
  t_theirs=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["median_s"])' <<<"$theirs")
  n_theirs=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["npeaks"])' <<<"$theirs")
  echo "$ours"
  echo "lauetools peaks image=$(basename "$img") peaks=$n_theirs median_s=$t_theirs"
  awk -v a="$t_theirs" -v b="$t_ours" -v m="$(basename "$img")" 'BEGIN { printf "%s: lauekit is %.1fx faster per image than LaueTools\n", m, a / b }'
done
