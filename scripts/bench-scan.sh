#!/usr/bin/env bash
# Scan throughput of `lauekit scan` (release build, all cores of this machine) with peak search + LaueNN
# indexing + strain refinement, next to LaueTools 3.2.19's time per image for the same steps (PeakSearch +
# indexing/refinement, ../shared/tools/lauetools/{peaksearch,index}.py) measured in the same run; and the
# peak memory (RSS) of a 10 000-point scan.
#   - 512² images: a synthetic 40×30 Cu scan (`lauekit simulate-scan`, 6 grains + twin band), Cu LaueNN model
#   - 2048² images: 200 points of Ge_blanc (MarCCD 165, BM32), Ge LaueNN model
#   - 10 000 points: 100×100 links cycling over the synthetic images, RSS from /usr/bin/time
# Usage: scripts/bench-scan.sh [LAUETOOLS_VENV]   (default /opt/lauetools-venv; built if missing)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
gb="$here/../shared/data/real/Ge_blanc"
venv=${1:-/opt/lauetools-venv}
bash "$here/../shared/tools/lauetools/setup-venv.sh" "$venv" >/dev/null
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
work=$(mktemp -d /tmp/lauekit-bench-scan.XXXXXX)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

"$bin" simulate-scan -o "$work/syn" --grid 40x30 --seed 1 --threads "$(nproc)" >/dev/null
rate() { sed -n 's/.*(\([0-9.]*\) points\/s.*/\1/p'; }
r512=$("$bin" scan "$work/syn" --grid 40x30 --calib "$work/syn/calib.det" --method nn --model "$here/www/models/Cu" \
       -o "$work/syn.h5" --quiet | tee /dev/stderr | rate)

mkdir "$work/ge"
for i in $(seq 0 199); do ln -s "$gb/Ge_blanc_0000.mccd" "$work/ge/Ge_$(printf %04d "$i").mccd"; done
r2048=$("$bin" scan "$work/ge" --grid 20x10 --calib "$gb/calibGe111.det" --params "$gb/peaksearch.json" \
        --method nn --model "$here/www/models/Ge" -o "$work/ge.h5" --quiet | tee /dev/stderr | rate)

# LaueTools on the same Ge_blanc image: PeakSearch, then indexing + refinement of its peak list.
ps=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$here/../shared/tools/lauetools/peaksearch.py" \
     "$gb/Ge_blanc_0000.mccd" --ccd MARCCD165 --params "$gb/peaksearch.json" --repeat 3 --dat "$work/lt.dat")
ix=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$venv/bin/python" "$here/../shared/tools/lauetools/index.py" \
     "$work/lt.dat" --det "$gb/calibGe111.det" --material Ge --repeat 3)
t_ps=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["median_s"])' <<<"$ps")
t_ix=$("$venv/bin/python" -c 'import json,sys; print(json.loads(sys.stdin.read())["median_s"])' <<<"$ix")
echo "lauetools Ge_blanc: peak search ${t_ps} s + indexing/refinement ${t_ix} s per image (one core)"

# 10 000 points: memory stays bounded (results, not frames, are held).
mkdir "$work/big"
n_syn=1200
for i in $(seq 0 9999); do
  ln -s "$work/syn/scan_$(printf %04d $((i % n_syn))).tif" "$work/big/big_$(printf %05d "$i").tif"
done
/usr/bin/time -v "$bin" scan "$work/big" --grid 100x100 --calib "$work/syn/calib.det" --method nn \
  --model "$here/www/models/Cu" -o "$work/big.h5" --quiet 2> "$work/time.txt" | tee "$work/big.txt"
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
r10k=$(rate < "$work/big.txt")

awk -v a="$r512" -v b="$r2048" -v ps="$t_ps" -v ix="$t_ix" -v rss="$rss_kb" -v r10k="$r10k" -v n="$(nproc)" 'BEGIN {
  lt = ps + ix
  printf "512² (synthetic Cu, LaueNN + strain): %.1f points/s on %d cores\n", a, n
  printf "2048² (Ge_blanc, LaueNN + strain): %.1f points/s on %d cores; LaueTools %.3f s per image on one core\n", b, n, lt
  printf "ratio: lauekit scans 2048² images %.1fx faster than LaueTools per image per core (%.1fx with all cores)\n", b * lt / n, b * lt
  printf "10 000 points (100×100, 512²): %.1f points/s, peak RSS %.0f MB\n", r10k, rss / 1024
}'
