#!/usr/bin/env bash
# Clustering a 6000-point scan (issue 14): `lauekit cluster` (release build, all cores of this machine) on a
# synthetic 100×60 scan of 512² images (`lauekit simulate-scan --seed 3`: 6 Cu grains with a Σ3 twin band,
# Si particles over 10 % of the area, 2 % empty points), next to indexing every point with `lauekit scan`
# (look-up table, Cu and Si) in the same run. Prints:
#   - reading + features (pixels, and the autoencoder when shipped), PCA 32, K-means K = 64, K-range 2..20 with
#     silhouette / Calinski–Harabasz (seconds, from the JSON's timings)
#   - the indexing labeler (delegates' orientations stand for their clusters), then every member refined from
#     its cluster's orientation, then `lauekit scan`: median / 95th percentile misorientation to the truth,
#     fractions within 0.1° and 0.5° (`lauekit scan truth`), images indexed, seconds
# Usage: scripts/bench-cluster.sh [WORKDIR]   (default: a temporary directory, removed at the end; 3 GB)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/lauekit/target}
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin lauekit
bin="$CARGO_TARGET_DIR/release/lauekit"
if [ $# -ge 1 ]; then work=$1; mkdir -p "$work"; else
  work=$(mktemp -d /tmp/lauekit-bench-cluster.XXXXXX); trap 'rm -rf "$work"' EXIT
fi
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
syn="$work/syn"
[ -f "$syn/truth.json" ] || "$bin" simulate-scan -o "$syn" --grid 100x60 --seed 3 --second-phase Si:0.1 --force
# Cold reads when we may drop the page cache (root), warm otherwise.
drop() { sync; { echo 3 > /proc/sys/vm/drop_caches; } 2>/dev/null && echo "(page cache dropped)" || echo "(warm page cache)"; }
j() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
common=(--grid 100x60 --quiet --force)

drop
"$bin" cluster "$syn" "${common[@]}" --k 64 -o "$work/k64.json"
echo "pixels, K = 64: reading + features $(j "$work/k64.json" "round(d['timings']['features'],2)") s, PCA 32 \
$(j "$work/k64.json" "round(d['timings']['pca'],3)") s, K-means K = 64 (4 restarts) \
$(j "$work/k64.json" "round(d['timings']['clustering'],3)") s"
"$bin" cluster "$syn" "${common[@]}" --k-range 2..20 -o "$work/range.json"
echo "pixels, K 2..20: scores $(j "$work/range.json" "round(d['timings']['scores'],2)") s, suggested K \
$(j "$work/range.json" "d['suggested_k']")"
if "$bin" cluster --help | grep -q "or ae"; then
  drop
  "$bin" cluster "$syn" "${common[@]}" --k 64 --features ae -o "$work/ae.json"
  echo "autoencoder, K = 64: reading + features $(j "$work/ae.json" "round(d['timings']['features'],2)") s"
fi

idx=(--calib "$syn/calib.det" --index-delegates --material Cu,Si)
"$bin" cluster "$syn" "${common[@]}" --k 64 "${idx[@]}" -o "$work/lab.json" --h5 "$work/lab.h5"
"$bin" cluster "$syn" "${common[@]}" --k 64 "${idx[@]}" --refine-members -o "$work/ref.json" --h5 "$work/ref.h5"
t0=$(date +%s.%N)
"$bin" scan "$syn" --grid 100x60 --calib "$syn/calib.det" --material Cu,Si -o "$work/full.h5" --quiet --force || true
t_scan=$(echo "$(date +%s.%N) - $t0" | bc)
row() { # name, results.h5, images indexed, seconds
  "$bin" scan truth "$2" "$syn/truth.json" > "$work/t.json"
  printf "| %s | %.4f | %.4f | %.1f %% | %.1f %% | %s (%.2f %%) | %.1f |\n" "$1" \
    "$(j "$work/t.json" "d['median_deg']")" "$(j "$work/t.json" "d['p95_deg']")" \
    "$(j "$work/t.json" "100*d['within_0_1']")" "$(j "$work/t.json" "100*d['within_0_5']")" \
    "$3" "$(echo "100 * $3 / 6000" | bc -l)" "$4"
}
echo "| 6000 points, K = 64 | median (°) | p95 (°) | ≤ 0.1° | ≤ 0.5° | images indexed | s |"
echo "|---|---|---|---|---|---|---|"
row "indexing labeler (delegates)" "$work/lab.h5" "$(j "$work/lab.json" "d['images_indexed']")" "$(j "$work/lab.json" "d['seconds']")"
row "+ members refined from their cluster" "$work/ref.h5" "$(j "$work/ref.json" "d['images_indexed']")" "$(j "$work/ref.json" "d['seconds']")"
row "lauekit scan (every point indexed)" "$work/full.h5" 6000 "$t_scan"
