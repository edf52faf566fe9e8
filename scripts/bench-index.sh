#!/usr/bin/env bash
# Classical indexing of Ge_blanc (LaueTools' own peak list, 97 peaks, calibGe111.det, Ge, 5–22 keV), single
# thread: lauekit next to LaueTools 3.2.19 (../shared/tools/lauetools/index.py: angle LUT, matching rate, strain
# refinement) in one run; both read the peak list in every run. Prints both medians and the ratio.
# Usage: scripts/bench-index.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data="$here/../shared/data/real/Ge_blanc"
venv=${1:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
ours=$(RAYON_NUM_THREADS=1 "$bin" bench index --peaks "$data/Ge_blanc_0000_LT_5.dat" --calib "$data/calibGe111.det" \
       --material Ge --emin 5 --emax 22 --seconds 3)
theirs=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$here/../shared/tools/lauetools/index.py" \
         "$data/Ge_blanc_0000_LT_5.dat" --det "$data/calibGe111.det" --material Ge --emin 5 --emax 22 --repeat 5)
t_ours=$(sed 's/.*median_s=\([0-9.]*\).*/\1/' <<<"$ours")
t_theirs=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["median_s"])' <<<"$theirs")
n_theirs=$("$venv/bin/python" -c 'import json,sys; g=json.loads(sys.stdin.read())["grains"]; print(g[0].get("n_indexed", "?") if g else 0)' <<<"$theirs")
echo "$ours"
echo "lauetools index peaks=Ge_blanc_0000_LT_5.dat indexed=$n_theirs median_s=$t_theirs"
awk -v a="$t_theirs" -v b="$t_ours" 'BEGIN { printf "Ge_blanc: lauekit indexes %.1fx faster than LaueTools (single thread)\n", a / b }'
