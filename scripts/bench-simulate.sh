#!/usr/bin/env bash
# Simulated Laue patterns per second, single thread: lauekit next to LaueTools 3.2.19 on the same inputs
# (identity UB, calib 70,1024,1024,0,0, 0.079142 mm, 2048×2048, 5–22 keV), in one run.
# Usage: scripts/bench-simulate.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
venv=${1:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
for m in Cu ZrO2; do
  ours=$(RAYON_NUM_THREADS=1 "$bin" bench simulate --material "$m" --seconds 3)
  theirs=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$here/scripts/lauetools_bench_simulate.py" "$m" 3)
  echo "$ours"
  echo "$theirs"
  us_ours=$(sed 's/.*us_per_pattern=\([0-9.]*\).*/\1/' <<<"$ours")
  us_theirs=$(sed 's/.*us_per_pattern=\([0-9.]*\).*/\1/' <<<"$theirs")
  awk -v a="$us_theirs" -v b="$us_ours" -v m="$m" 'BEGIN { printf "%s: lauekit is %.1fx faster per pattern than LaueTools\n", m, a / b }'
done
